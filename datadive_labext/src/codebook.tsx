/**
 * The codebook editor of a dataset: each column with its level, question, value labels, missing
 * codes and personal-data flag; the level and the flag can be changed and saved (with the hash
 * the codebook was read at, so a codebook someone else changed meanwhile is never overwritten).
 */
import * as React from 'react';

import { LEVELS, LEVEL_HELP, columnMissingText, labelsText, levelOf } from './assistantlogic';
import { AssistantModel } from './assistantmodel';

export function CodebookEditor({ a }: { a: AssistantModel }): JSX.Element {
  const answer = a.codebook;
  if (!a.question.dataset) {
    return <p className="dd-Muted">Choose a dataset to see its codebook.</p>;
  }
  if (!answer) {
    return <></>;
  }
  const changes = a.pendingChanges();
  return (
    <section className="dd-Codebook" aria-label={`Codebook of ${a.question.dataset}`}>
      <p className="dd-Muted">
        {answer.stored
          ? 'Saved beside the dataset; everyone in the project sees the same codebook.'
          : 'Read from the file (not saved yet): check the levels, then save.'}
      </p>
      <ul className="dd-List dd-CodebookList" aria-label="Codebook columns">
        {answer.codebook.columns.map((c, i) => {
          const edit = a.edits[c.name] ?? {};
          const level = String(edit.level ?? levelOf(c));
          const personal = Boolean(edit.personal_data ?? c.personal_data);
          const labels = labelsText(c.values ?? c.labels);
          const missing = columnMissingText(c);
          return (
            <li key={c.name} data-column={c.name} className={`dd-CodebookColumn${personal ? ' dd-mod-personal' : ''}`}>
              <span className="dd-ColName">{c.name}</span>
              {c.question && <span className="dd-Question">{c.question}</span>}
              <span className="dd-CodebookControls">
                <label htmlFor={`dd-level-${i}`} className="dd-VisuallyHidden">
                  Level of {c.name}
                </label>
                <select
                  id={`dd-level-${i}`}
                  className="dd-Select jp-mod-styled"
                  value={level}
                  title={LEVEL_HELP[level as keyof typeof LEVEL_HELP] ?? ''}
                  onChange={e => a.setEdit(c.name, { level: e.target.value })}
                >
                  {LEVELS.map(l => (
                    <option key={l} value={l} title={LEVEL_HELP[l]}>
                      {l}
                    </option>
                  ))}
                </select>
                <label className="dd-Check">
                  <input
                    type="checkbox"
                    aria-label={`${c.name} is personal data`}
                    checked={personal}
                    onChange={e => a.setEdit(c.name, { personal_data: e.target.checked })}
                  />
                  personal data
                </label>
              </span>
              {labels && <span className="dd-Labels">Labels: {labels}</span>}
              {missing && <span className="dd-Labels">Missing: {missing}</span>}
            </li>
          );
        })}
      </ul>
      {changes.length > 0 && (
        <ul className="dd-Changes" aria-label="Unsaved changes">
          {changes.map(c => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      )}
      {a.saveError && (
        <div className="dd-Error" role="alert">
          <span>{a.saveError}</span>
          {a.conflict && (
            <button className="dd-Link" onClick={() => void a.loadCodebook()}>
              Reload
            </button>
          )}
        </div>
      )}
      <div className="dd-Row dd-Actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-SaveCodebook"
          disabled={a.saving || (!changes.length && !!answer.stored)}
          onClick={() => void a.saveCodebook()}
        >
          {a.saving ? 'Saving…' : 'Save codebook'}
        </button>
        <button className="jp-Button jp-mod-styled dd-Button" disabled={a.saving} onClick={() => void a.loadCodebook()}>
          Reload
        </button>
      </div>
    </section>
  );
}

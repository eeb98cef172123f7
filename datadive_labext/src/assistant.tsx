/**
 * The Assistant tab of a project: say what you want to know, pick the dataset and variables
 * (pickers filtered by the codebook's levels, group values chosen from the data), see the checks
 * with their numbers, the rule that decided, the recommended test, the robust alternative, the
 * effect size with its CI, the post hoc test and the APA line; Insert writes the answer's cell.
 * Also the command "Check again with the Datadive Assistant" on an inserted assistant cell.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import * as React from 'react';

import { insertCells, replaceCell } from './cells';
import { CodebookEditor } from './codebook';
import {
  IAssistAnswer,
  ICodebookColumn,
  IRoleSpec,
  QUESTIONS,
  assistantMetaOf,
  checkRows,
  columnLabels,
  columnsForRole,
  dataPathOf,
  decidingLines,
  formatAlternative,
  formatEffectSize,
  missingPicks,
  postHocTable,
  resultLine,
  rolesFor,
  testName,
} from './assistantlogic';
import { AssistantModel } from './assistantmodel';
import type { PanelModel } from './model';

export const RECHECK_COMMAND = 'datadive:assistant-recheck';

export function AssistantTab({ model }: { model: PanelModel }): JSX.Element {
  const a = model.assistant;
  const datasets = a.datasets();
  return (
    <div className="dd-Assistant">
      <div className="dd-Row">
        <label htmlFor="dd-assist-dataset">Dataset</label>
        <select
          id="dd-assist-dataset"
          className="dd-Select jp-mod-styled"
          value={a.question.dataset}
          onChange={e => void a.setDataset(e.target.value)}
        >
          <option value="">Choose a data file…</option>
          {datasets.map(d => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
      {!datasets.length && <p className="dd-Muted">No data files in this project yet: upload a CSV, Excel or SPSS file in the Files tab.</p>}
      <div className="dd-Segmented" role="group" aria-label="Assistant view">
        <button className={`dd-Tag${a.view === 'ask' ? ' dd-mod-active' : ''}`} aria-pressed={a.view === 'ask'} onClick={() => a.setView('ask')}>
          Ask
        </button>
        <button className={`dd-Tag${a.view === 'codebook' ? ' dd-mod-active' : ''}`} aria-pressed={a.view === 'codebook'} onClick={() => a.setView('codebook')}>
          Codebook
        </button>
      </div>
      {a.codebookError && (
        <div className="dd-Error" role="alert">
          <span>{a.codebookError}</span>
        </div>
      )}
      {a.loadingCodebook && <p className="dd-Muted">Reading the dataset's codebook…</p>}
      {a.recheckResult && <RecheckCard a={a} />}
      {a.view === 'ask' ? <AskView a={a} /> : <CodebookEditor a={a} />}
    </div>
  );
}

function columnTitle(c: ICodebookColumn): string {
  return c.question ? `${c.name} — ${c.question.length > 60 ? c.question.slice(0, 57) + '…' : c.question}` : c.name;
}

function RolePicker({ a, spec }: { a: AssistantModel; spec: IRoleSpec }): JSX.Element {
  const columns = columnsForRole(a.codebook?.codebook, spec);
  const id = `dd-assist-${spec.role}`;
  if (spec.multiple) {
    return (
      <fieldset className="dd-Fieldset">
        <legend>{spec.label}</legend>
        {columns.map(c => (
          <label key={c.name} className="dd-Check">
            <input type="checkbox" checked={a.question.paired.includes(c.name)} onChange={() => a.togglePaired(c.name)} />
            {columnTitle(c)}
            {a.question.paired.includes(c.name) && <span className="dd-Badge">{a.question.paired.indexOf(c.name) + 1}</span>}
          </label>
        ))}
        {!columns.length && a.codebook && <NoColumns spec={spec} />}
      </fieldset>
    );
  }
  return (
    <div className="dd-AssistField">
      <label htmlFor={id}>{spec.label}</label>
      <select id={id} className="dd-Select jp-mod-styled" value={a.question.picks[spec.role] ?? ''} onChange={e => a.setPick(spec.role, e.target.value)}>
        <option value="">{spec.optional ? '(none)' : 'Choose…'}</option>
        {columns.map(c => (
          <option key={c.name} value={c.name}>
            {columnTitle(c)}
          </option>
        ))}
      </select>
      {!columns.length && a.codebook && <NoColumns spec={spec} />}
    </div>
  );
}

function NoColumns({ spec }: { spec: IRoleSpec }): JSX.Element {
  return (
    <span className="dd-Muted">
      No {spec.levels.join(' or ')} column in this dataset. If a column has the wrong level, change it in the Codebook.
    </span>
  );
}

function GroupValues({ a }: { a: AssistantModel }): JSX.Element | null {
  const column = a.question.picks.group;
  if (!column) {
    return null;
  }
  const values = a.values[column];
  if (!values) {
    return a.valuesError ? <p className="dd-Muted">{a.valuesError}</p> : <p className="dd-Muted">Reading the values of {column}…</p>;
  }
  const labels = new Map(columnLabels(a.codebook?.codebook.columns.find(c => c.name === column) ?? { name: column, level: 'nominal' }));
  return (
    <fieldset className="dd-Fieldset">
      <legend>Groups to compare (none ticked: all)</legend>
      {values.values.map((v, i) => {
        const label = labels.get(String(v));
        return (
          <label key={String(v)} className="dd-Check">
            <input type="checkbox" checked={a.question.groupValues.some(g => g === v)} onChange={() => a.toggleGroupValue(v)} />
            {label ? `${label} (${String(v)})` : String(v)}
            {values.counts && <span className="dd-Muted"> n = {values.counts[i]}</span>}
          </label>
        );
      })}
      {values.truncated && <p className="dd-Muted">Only the {values.values.length} most frequent values are listed.</p>}
    </fieldset>
  );
}

function AskView({ a }: { a: AssistantModel }): JSX.Element {
  const q = a.question;
  const missing = missingPicks(q, a.codebook?.codebook);
  return (
    <div className="dd-AssistAsk">
      <fieldset className="dd-Fieldset">
        <legend>What do you want to know?</legend>
        {QUESTIONS.map(item => (
          <label key={item.id} className="dd-Radio" title={item.hint}>
            <input type="radio" name="dd-assist-kind" value={item.id} checked={q.kind === item.id} onChange={() => a.setKind(item.id)} />
            <span>
              {item.label}
              <span className="dd-Muted dd-Hint">{item.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {q.kind === 'repeated' && (
        <fieldset className="dd-Fieldset">
          <legend>How are the measurements stored?</legend>
          <label className="dd-Radio">
            <input type="radio" name="dd-assist-layout" checked={q.layout === 'wide'} onChange={() => a.setLayout('wide')} />
            One column per time point (one row per participant)
          </label>
          <label className="dd-Radio">
            <input type="radio" name="dd-assist-layout" checked={q.layout === 'long'} onChange={() => a.setLayout('long')} />
            One row per measurement (a time column and a participant column)
          </label>
        </fieldset>
      )}
      {q.dataset &&
        a.codebook &&
        rolesFor(q.kind, q.layout).map(spec => (
          <React.Fragment key={spec.role}>
            <RolePicker a={a} spec={spec} />
            {spec.role === 'group' && q.kind === 'compare' && <GroupValues a={a} />}
          </React.Fragment>
        ))}
      {q.kind === 'one_sample' && q.dataset && (
        <div className="dd-AssistField">
          <label htmlFor="dd-assist-mu">Compare against the value</label>
          <input id="dd-assist-mu" className="dd-Input jp-mod-styled" inputMode="decimal" value={q.mu} onChange={e => a.setMu(e.target.value)} />
        </div>
      )}
      <div className="dd-Row dd-Actions">
        <button className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-Ask" disabled={missing.length > 0 || a.asking} onClick={() => void a.ask()}>
          {a.asking ? 'Checking…' : 'Check and recommend'}
        </button>
      </div>
      {a.asking && (
        <p className="dd-Muted" role="status">
          Running the checks on {q.dataset}… The first question after your server starts takes a few seconds (the statistics libraries load).
        </p>
      )}
      {missing.length > 0 && q.dataset && (
        <ul className="dd-Muted dd-Missing" aria-label="Still needed">
          {missing.map(m => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {a.error && (
        <div className="dd-Error" role="alert">
          <span>{a.error}</span>
        </div>
      )}
      {a.answer && <AnswerCard a={a} answer={a.answer} />}
    </div>
  );
}

/** Records when an answer first appears on screen (ask → answer shown), for the timings. */
function useShownTiming(a: AssistantModel, answer: IAssistAnswer): void {
  React.useEffect(() => {
    if (a.askStarted) {
      const ms = performance.now() - a.askStarted;
      (window as any).datadiveLastAssistMs = ms;
      console.debug(`datadive: assistant answer shown ${ms.toFixed(0)} ms after asking`);
    }
  }, [answer]);
}

export function AnswerView({ answer }: { answer: IAssistAnswer }): JSX.Element {
  const rows = checkRows(answer.checks);
  const effect = formatEffectSize(answer.effect_size);
  const alternative = formatAlternative(answer.alternative);
  const why = decidingLines(answer.why, answer.checks, !!alternative);
  const postHoc = postHocTable(answer.post_hoc);
  return (
    <>
      <h4 className="dd-AnswerTest">
        Recommended: <span className="dd-TestName">{testName(answer.test, answer.test_name)}</span>
      </h4>
      <p className="dd-Apa" aria-label="Result in APA style">
        {answer.apa || resultLine(answer)}
      </p>
      {rows.length > 0 && (
        <div className="dd-Checks" role="region" aria-label="Assumption checks">
          <h5>Assumption checks on your data</h5>
          <ul>
            {rows.map((r, i) => (
              <li key={i} className={`dd-CheckItem dd-Check-${r.verdict}`}>
                <span className="dd-Verdict">{r.verdict === 'passed' ? '✓ passed' : r.verdict === 'failed' ? '✗ not met' : 'ⓘ'}</span>{' '}
                <span className="dd-CheckName">{r.name}</span>
                {r.detail ? (
                  <span className="dd-CheckDetail">{r.detail}</span>
                ) : (
                  <span className="dd-CheckNumbers">
                    statistic {r.statistic} · p {r.p}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      {why.length > 0 && (
        <div className="dd-Why">
          <h5>Why this test</h5>
          <ul>
            {why.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      )}
      <dl className="dd-AnswerFacts">
        {effect && (
          <>
            <dt>Effect size</dt>
            <dd className="dd-EffectSize">{effect}</dd>
          </>
        )}
        {alternative && (
          <>
            <dt>Robust alternative</dt>
            <dd className="dd-Alternative">{alternative}</dd>
          </>
        )}
      </dl>
      {postHoc && (
        <div className="dd-PostHoc">
          <h5>{postHoc.title}</h5>
          {postHoc.rows.length > 0 && (
            <div className="dd-TableWrap" tabIndex={0} role="region" aria-label="Post hoc comparisons">
              <table className="dd-Table">
                <thead>
                  <tr>
                    {postHoc.columns.map(c => (
                      <th key={c} scope="col">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {postHoc.rows.map((r, i) => (
                    <tr key={i}>
                      {r.map((v, j) => (
                        <td key={j}>{v}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </>
  );
}

function AnswerCard({ a, answer }: { a: AssistantModel; answer: IAssistAnswer }): JSX.Element {
  useShownTiming(a, answer);
  const card = React.useRef<HTMLElement>(null);
  // a new answer is below the question in the sidebar: bring it into view (a block body: newer
  // browsers return a promise from scrollIntoView, which React would take for a cleanup)
  React.useEffect(() => {
    card.current?.scrollIntoView({ block: 'start' });
  }, [answer]);
  const code = a.answerCell(answer)?.source ?? answer.code ?? '';
  return (
    <section className="dd-Answer" aria-label="The assistant's answer" ref={card}>
      <AnswerView answer={answer} />
      <div className="dd-Row dd-Actions">
        <button className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-AssistInsert" disabled={!answer.cell} onClick={() => a.insert(answer)}>
          Insert into notebook
        </button>
      </div>
      {code && (
        <details className="dd-Code">
          <summary>The code the cell runs</summary>
          <pre>{code}</pre>
        </details>
      )}
    </section>
  );
}

function RecheckCard({ a }: { a: AssistantModel }): JSX.Element {
  const r = a.recheckResult!;
  const card = React.useRef<HTMLElement>(null);
  React.useEffect(() => {
    card.current?.scrollIntoView({ block: 'start' });
  }, [r]);
  return (
    <section className={`dd-Recheck ${r.changed ? 'dd-mod-changed' : 'dd-mod-same'}`} aria-label="Checked again" role="status" ref={card}>
      <div className="dd-Row">
        <h4 className="dd-GroupTitle">{r.changed ? 'The recommendation changed' : 'The recommendation still holds'}</h4>
        <button className="dd-Link" onClick={() => a.dismissRecheck()} aria-label="Close the recheck result">
          Close
        </button>
      </div>
      <p className="dd-RecheckText">{r.text}</p>
      {r.answer && (
        <details open={r.changed}>
          <summary>Checks on the current data</summary>
          <AnswerView answer={r.answer} />
          {r.changed && r.answer.cell && (
            <button className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-ReplaceCell" onClick={() => void a.replaceRechecked()}>
              Replace the cell
            </button>
          )}
        </details>
      )}
    </section>
  );
}

/** The assistant cell the notebook's active cell is, with where it is. */
function activeAssistantCell(tracker: INotebookTracker): { meta: Record<string, any>; cellId: string; notebookPath: string } | null {
  const panel = tracker.currentWidget;
  const cell = panel?.content.activeCell;
  if (!panel || !cell) {
    return null;
  }
  const meta = assistantMetaOf({ datadive: cell.model.getMetadata('datadive') });
  return meta ? { meta, cellId: cell.model.id, notebookPath: panel.context.path } : null;
}

/**
 * Wire the assistant into the plugin: its Insert goes through the panel's cell-insertion path,
 * and the command "Check again with the Datadive Assistant" works on an inserted assistant cell.
 */
export function registerAssistant(app: JupyterFrontEnd, tracker: INotebookTracker, model: PanelModel, showPanel: () => void): string[] {
  model.assistant.insertCell = cell => {
    insertCells(tracker, [cell]);
  };
  model.assistant.replaceCell = (where, cell) => replaceCell(tracker, where.notebookPath, where.cellId, [cell]);
  model.assistant.currentNotebook = () => tracker.currentWidget?.context.path ?? null;
  app.commands.addCommand(RECHECK_COMMAND, {
    label: 'Check again with the Datadive Assistant',
    caption: 'Run the assumption checks of this assistant cell on the current data and say whether the recommended test changed',
    isVisible: () => !!activeAssistantCell(tracker),
    isEnabled: () => !!activeAssistantCell(tracker),
    execute: async () => {
      const found = activeAssistantCell(tracker);
      if (!found) {
        Notification.warning('The active cell was not inserted by the Datadive Assistant.', { autoClose: 4000 });
        return;
      }
      showPanel();
      // show the result in the Assistant tab of the project the cell's data belongs to
      const dataPath = dataPathOf(found.meta);
      const owner = model.projects.find(p => dataPath.startsWith(model.projectFolder(p) + '/'));
      if (owner && owner.id !== model.project?.id) {
        await model.openProject(owner.id);
      }
      if (model.project) {
        model.page = 'project';
      }
      model.tab = 'assistant';
      await model.assistant.recheck(found.meta, { cellId: found.cellId, notebookPath: found.notebookPath });
    }
  });
  tracker.activeCellChanged.connect(() => app.commands.notifyCommandChanged(RECHECK_COMMAND));
  return [RECHECK_COMMAND];
}

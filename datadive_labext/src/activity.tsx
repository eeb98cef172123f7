/**
 * A project's audit log, for owners.
 */
import * as React from 'react';

import type { PanelModel } from './model';
import type { IProject } from './types';

/** The project's audit log, for owners: who did what, newest first, with older pages on demand. */
export function ActivityList({ model, project }: { model: PanelModel; project: IProject }): JSX.Element {
  return (
    <section className="dd-Activity" aria-labelledby="dd-activity-title">
      <h4 className="dd-GroupTitle" id="dd-activity-title">
        Activity
      </h4>
      {model.audit.length ? (
        <ul className="dd-List" aria-labelledby="dd-activity-title">
          {model.audit.map(e => (
            <li key={e.id} className="dd-Item dd-AuditEvent">
              <span className="dd-ItemName">
                {e.actor} {e.action}
                {e.target ? <span className="dd-Muted"> {e.target}</span> : null}
              </span>
              <time className="dd-Muted" dateTime={e.at}>
                {new Date(e.at).toLocaleString()}
              </time>
            </li>
          ))}
        </ul>
      ) : (
        <p className="dd-Muted">Nothing recorded yet.</p>
      )}
      <div className="dd-Row">
        {model.auditNext !== null && (
          <button className="dd-Link" onClick={() => void model.loadAudit(true)}>
            Older activity
          </button>
        )}
        <a className="dd-Link" href={model.client.auditExportUrl(project.id)} download={`${project.name}-audit.jsonl`}>
          Download the whole log (JSON lines)
        </a>
      </div>
    </section>
  );
}

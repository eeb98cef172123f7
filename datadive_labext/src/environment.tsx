/**
 * The Environment tab of a project (docs/environments.md): the packages the project asks for,
 * add / remove, Build with a progress bar and uv's log, what is installed, the lock, the last
 * error. Everything is computed by the server extension (datadive/api/environments/...).
 */
import * as React from 'react';

import type { DatadiveClient } from './api';
import {
  IEnvironmentStatus,
  environmentState,
  packageName,
  packageSpecProblem,
  percent,
  pollDelay,
  stateLine
} from './environmentlogic';

export function EnvironmentTab({ client, folder }: { client: DatadiveClient; folder: string }): JSX.Element {
  const [status, setStatus] = React.useState<IEnvironmentStatus | null>(null);
  const [error, setError] = React.useState('');
  const [spec, setSpec] = React.useState('');
  const [busy, setBusy] = React.useState(false);

  const load = React.useCallback(async () => {
    try {
      setStatus(await client.environmentStatus(folder));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [client, folder]);

  React.useEffect(() => {
    void load();
  }, [load]);

  // while a build runs, ask for its progress every second
  React.useEffect(() => {
    const delay = pollDelay(status);
    if (delay === null) {
      return;
    }
    const timer = window.setTimeout(() => void load(), delay);
    return () => window.clearTimeout(timer);
  }, [status, load]);

  const act = async (what: () => Promise<IEnvironmentStatus>) => {
    setBusy(true);
    try {
      setStatus(await what());
      setError('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!status) {
    return error ? (
      <div className="dd-Error" role="alert">
        {error}
      </div>
    ) : (
      <p className="dd-Muted">Reading the project's environment…</p>
    );
  }
  const state = environmentState(status);
  const writable = !!status.project?.writable;
  const running = !!status.build?.running;
  const problem = spec ? packageSpecProblem(spec) : null;
  const add = (build: boolean) => {
    if (!packageSpecProblem(spec)) {
      void act(() => client.addPackage(folder, spec.trim(), build)).then(() => setSpec(''));
    }
  };
  return (
    <div className="dd-Environment" data-dd-env-state={state}>
      <p className="dd-Muted" role="status">
        {stateLine(status)}
      </p>
      {error && (
        <div className="dd-Error" role="alert">
          {error}
        </div>
      )}
      {state !== 'off' && (
        <>
          <h4>Packages (requirements.txt)</h4>
          {status.requirements?.error && (
            <div className="dd-Error" role="alert">
              {status.requirements.error}
            </div>
          )}
          <ul className="dd-List" aria-label="Packages of the project">
            {(status.requirements?.packages ?? []).map(req => (
              <li key={req} className="dd-Item">
                <code>{req}</code>
                {writable && (
                  <button
                    className="dd-Link"
                    disabled={busy || running}
                    onClick={() => void act(() => client.removePackage(folder, packageName(req)))}
                    aria-label={`Remove ${packageName(req)}`}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
          {writable ? (
            <form
              className="dd-Row"
              onSubmit={e => {
                e.preventDefault();
                add(true);
              }}
            >
              <label htmlFor="dd-env-add">Add a package</label>
              <input
                id="dd-env-add"
                className="dd-Input jp-mod-styled"
                placeholder="semopy>=2.3"
                value={spec}
                onChange={e => setSpec(e.target.value)}
                aria-invalid={!!problem}
                aria-describedby={problem ? 'dd-env-add-problem' : undefined}
              />
              <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={busy || running || !spec || !!problem}>
                Add and build
              </button>
              {problem && (
                <span id="dd-env-add-problem" className="dd-Muted">
                  {problem}
                </span>
              )}
            </form>
          ) : (
            <p className="dd-Muted">You are a viewer of this project: you can build its environment but not change its packages.</p>
          )}
          <div className="dd-Row">
            <button
              className="jp-Button jp-mod-styled dd-Button"
              disabled={busy || running || state === 'empty'}
              onClick={() => void act(() => client.buildEnvironment(folder))}
            >
              Build
            </button>
            {status.build && (
              <progress
                className="dd-EnvProgress"
                max={1}
                value={status.build.progress}
                aria-label={`Build progress: ${percent(status.build.progress)}`}
              />
            )}
          </div>
          {status.last_error && (status.build?.error || !status.environment?.current) && (
            <div className="dd-Error" role="alert">
              {status.last_error.message}
            </div>
          )}
          {status.build?.log && (
            <details open={running}>
              <summary>Build log</summary>
              <pre className="dd-EnvLog">{status.build.log}</pre>
            </details>
          )}
          {status.environment && (
            <details>
              <summary>
                Installed: {status.environment.installed.length} by the project, {status.environment.from_image.length} from the image
              </summary>
              <ul className="dd-List">
                {status.environment.installed.map(p => (
                  <li key={p}>
                    <code>{p}</code>
                  </li>
                ))}
                {status.environment.from_image.map(p => (
                  <li key={p}>
                    <code>{p}</code> <span className="dd-Muted">(image)</span>
                  </li>
                ))}
              </ul>
            </details>
          )}
          {status.lock?.present && (
            <details>
              <summary>Lock (requirements.lock){status.lock.stale ? ': out of date, Build re-locks it' : ''}</summary>
              {status.lock.error && (
                <div className="dd-Error" role="alert">
                  {status.lock.error}
                </div>
              )}
              <pre className="dd-EnvLog">{status.lock.pins.join('\n')}</pre>
            </details>
          )}
        </>
      )}
    </div>
  );
}

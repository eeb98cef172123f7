/**
 * Status-bar item: the sync state of the project working copies (synced / syncing / conflict /
 * offline), polled from the server extension's `datadive/api/sync`; click opens the details.
 */
import { ReactWidget, showDialog, Dialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DatadiveClient } from './api';
import { SyncState, overallSync } from './synclogic';

const LABELS: Record<SyncState, string> = {
  synced: 'Synced',
  syncing: 'Syncing…',
  conflict: 'Conflict',
  offline: 'Offline',
  detached: 'Not synced (no longer in your projects)',
  unknown: 'Sync: –'
};

export class SyncStatus extends ReactWidget {
  state: ReturnType<typeof overallSync> = { state: 'unknown', detail: '', projects: [] };
  error = '';
  private timer: number | undefined;

  constructor(
    private client: DatadiveClient,
    private names: () => Map<string, string>
  ) {
    super();
    this.addClass('dd-SyncStatus');
    this.id = 'datadive-sync-status';
  }

  start(seconds: number): void {
    window.clearInterval(this.timer);
    void this.refresh();
    if (seconds > 0) {
      this.timer = window.setInterval(() => void this.refresh(), seconds * 1000);
    }
  }

  async refresh(): Promise<void> {
    try {
      this.state = overallSync(await this.client.sync());
      this.error = '';
    } catch (err) {
      const status = (err as { status?: number }).status;
      this.state = { state: status === 404 ? 'unknown' : 'offline', detail: '', projects: [] };
      this.error = (err as Error).message;
    }
    this.update();
  }

  async showDetails(): Promise<void> {
    await this.refresh();
    const names = this.names();
    const body = (
      <div className="dd-SyncDetails">
        <p>
          Overall: <strong>{LABELS[this.state.state]}</strong>
          {this.state.detail ? ` — ${this.state.detail}` : ''}
        </p>
        {this.error && <p role="alert">The sync state could not be read: {this.error}</p>}
        <ul>
          {this.state.projects.map(p => (
            <li key={p.id}>
              {names.get(p.id) ?? (p.folder || p.id)}: {LABELS[p.state]}
              {p.detail ? ` — ${p.detail}` : ''}
            </li>
          ))}
        </ul>
      </div>
    );
    await showDialog({ title: 'Datadive storage sync', body, buttons: [Dialog.okButton({ label: 'Close' })] });
  }

  dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }

  render(): JSX.Element {
    const s = this.state.state;
    return (
      <button
        className={`dd-SyncButton dd-Sync-${s}`}
        title={this.error ? `Sync state unavailable: ${this.error}` : `Datadive storage: ${LABELS[s]}. Click for details.`}
        aria-label={`Datadive storage sync: ${LABELS[s]}. Show details.`}
        onClick={() => void this.showDetails()}
      >
        <span className={`dd-SyncDot dd-Sync-${s}`} aria-hidden="true" />
        {LABELS[s]}
      </button>
    );
  }
}

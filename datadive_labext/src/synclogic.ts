/**
 * Pure logic of the sync status (status.tsx): one overall state from the server's answer.
 */

export type SyncState = 'synced' | 'syncing' | 'conflict' | 'offline' | 'detached' | 'unknown';

/** What a project's sync entry says beyond its state: its message, pending uploads, conflicts. */
function syncDetail(p: any): string {
  const parts: string[] = [];
  const message = p?.detail ?? p?.message;
  if (message) {
    parts.push(String(message));
  }
  const pending = Number(p?.pending ?? 0);
  if (pending > 0) {
    parts.push(`${pending} file${pending === 1 ? '' : 's'} waiting to upload`);
  }
  const conflicts: any[] = Array.isArray(p?.conflicts) ? p.conflicts : [];
  if (conflicts.length) {
    const names = conflicts.map(c => (typeof c === 'string' ? c : c?.path ?? c?.key ?? '')).filter(Boolean);
    parts.push(`conflict${conflicts.length === 1 ? '' : 's'}${names.length ? ': ' + names.slice(0, 5).join(', ') : ''}`);
  }
  return parts.join('; ');
}

/** Overall sync state from the server's answer (one state, or per-project states). */
export function overallSync(raw: any): {
  state: SyncState;
  detail: string;
  projects: { id: string; folder: string; state: SyncState; detail: string }[];
} {
  const norm = (s: any): SyncState =>
    ['synced', 'syncing', 'conflict', 'offline', 'detached'].includes(s) ? s : s === 'error' ? 'offline' : 'unknown';
  const list: any[] = Array.isArray(raw?.projects) ? raw.projects : Array.isArray(raw) ? raw : [];
  const projects = list.map(p => ({
    id: String(p.id ?? p.project ?? p.project_id ?? ''),
    folder: String(p.folder ?? ''),
    state: norm(p.state ?? p.status),
    detail: syncDetail(p)
  }));
  let state: SyncState = norm(raw?.state ?? raw?.status);
  if (projects.length && state === 'unknown') {
    const order: SyncState[] = ['conflict', 'offline', 'syncing', 'synced'];
    state = order.find(s => projects.some(p => p.state === s)) ?? 'unknown';
  }
  return { state, detail: String(raw?.detail ?? raw?.message ?? ''), projects };
}

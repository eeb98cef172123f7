/**
 * Pure logic of the panel's history views (history.tsx): versions of a file, the trash
 * ("Recently deleted") and the comparison of two versions of a notebook. The shapes are the
 * service's (datadive_hub/api/openapi/files.yaml, history.yaml) and the server extension's diff
 * answer (datadive_server_ext/notebookdiff.py); nothing here re-derives what they compute.
 */
import type { Answer, Served } from './api';
import type { components as ServerComponents, paths as ServerPaths } from './generated/server';
import type { components as ServiceComponents } from './generated/service';
import type { IProject } from './types';

type Schemas = ServiceComponents['schemas'];

/** One version of a file (`GET projects/{id}/versions/{path}`) that can be read and restored
 * (the service documents `version_id` as nullable; such an entry is not listed). */
export type IVersion = Schemas['FileVersion'] & { version_id: string };

export type IVersionPage = Omit<Served<'/projects/{project_id}/versions/{path}', 'get'>, 'versions'> & { versions: IVersion[] };

/** One entry of the trash (`GET projects/{id}/trash`). */
export type ITrashEntry = Schemas['TrashEntry'];

export type ITrashPage = Served<'/projects/{project_id}/trash', 'get'>;

type ServerSchemas = ServerComponents['schemas'];

/** A line of a cell's source in a comparison. */
export type IDiffLine = NonNullable<IDiffCell['source']>[number];

/** An output as the comparison summarizes it. */
export type IDiffOutput = ServerSchemas['DiffOutput'];

export type CellStatus = ServerSchemas['CellStatus'];

export type IDiffCell = ServerSchemas['DiffCell'];

/** The server extension's answer (`datadive/api/history/diff/<project>/<path>`). */
export type INotebookDiff = Answer<ServerPaths['/api/history/diff/{project_id}/{path}'], 'get'>;

/** The next page appended to the versions shown so far (a version already shown is skipped). */
export function appendVersions(shown: IVersion[], page: IVersion[]): IVersion[] {
  const seen = new Set(shown.map(v => v.version_id));
  return shown.concat(page.filter(v => !seen.has(v.version_id)));
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A time as "2026-12-03 10:01:02" in the browser's time zone ('' when unreadable). */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (isNaN(d.getTime())) {
    return String(iso);
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Who wrote a version, for people ("someone outside Datadive" when the service cannot tell). */
export function authorText(author: string | null | undefined): string {
  return author ? author : 'outside Datadive';
}

export function baseName(path: string): string {
  return path.split('/').filter(Boolean).pop() || path;
}

/** The title of a version's tab: which file, when, by whom (and "current"). */
export function versionTitle(path: string, v: IVersion): string {
  return `${baseName(path)} @ ${formatWhen(v.last_modified)} (${authorText(v.author)}${v.is_current ? ', current' : ''})`;
}

/** The title of a comparison's tab. */
export function compareTitle(path: string, older: IVersion, newer: IVersion): string {
  return `${baseName(path)}: ${formatWhen(older.last_modified)} → ${newer.is_current ? 'current' : formatWhen(newer.last_modified)}`;
}

export type ViewerKind = 'notebook' | 'image' | 'text' | 'other';

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp'
};
const TEXT_EXTENSIONS = new Set([
  'txt', 'md', 'csv', 'tsv', 'json', 'py', 'r', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'log', 'sql',
  'sh', 'html', 'xml', 'tex', 'bib', 'js', 'ts', 'css', 'svg', 'do', 'sps', 'rmd', 'qmd', 'geojson'
]); // prettier-ignore

function extension(path: string): string {
  const name = baseName(path).toLowerCase();
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1) : '';
}

/** How a version of `path` is shown read-only. SVG is shown as text: it is a document. */
export function viewerKind(path: string): ViewerKind {
  const ext = extension(path);
  if (ext === 'ipynb') {
    return 'notebook';
  }
  if (IMAGE_TYPES[ext]) {
    return 'image';
  }
  if (TEXT_EXTENSIONS.has(ext) || !ext) {
    return 'text';
  }
  return 'other';
}

export function imageMime(path: string): string {
  return IMAGE_TYPES[extension(path)] ?? 'application/octet-stream';
}

/** Largest text version shown (characters); the rest is cut with a note. */
export const MAX_TEXT_CHARS = 2_000_000;

/** The text of a version as shown: cut at `max` characters with a note saying so. */
export function shownText(text: string, max = MAX_TEXT_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters not shown)` : text;
}

/**
 * The two versions to compare, older first, from the ids chosen in a newest-first list (a
 * version further down the list is older). Null unless exactly two are chosen.
 */
export function comparePair(chosen: string[], versions: IVersion[]): [IVersion, IVersion] | null {
  if (chosen.length !== 2) {
    return null;
  }
  const found = chosen.map(id => versions.findIndex(v => v.version_id === id));
  if (found.some(i => i < 0) || found[0] === found[1]) {
    return null;
  }
  const [a, b] = found;
  return a > b ? [versions[a], versions[b]] : [versions[b], versions[a]];
}

/** The ids chosen after a version's box was ticked or unticked (at most two: the oldest choice goes). */
export function toggleChoice(chosen: string[], id: string): string[] {
  if (chosen.includes(id)) {
    return chosen.filter(c => c !== id);
  }
  return [...chosen, id].slice(-2);
}

/** "2 changed, 1 added, 0 removed, 5 unchanged" (in that order; zero counts of a kind omitted
 * except unchanged). */
export function diffHeadline(counts: Partial<Record<CellStatus, number>>): string {
  const parts: string[] = [];
  for (const kind of ['changed', 'added', 'removed'] as CellStatus[]) {
    if (counts[kind]) {
      parts.push(`${counts[kind]} ${kind}`);
    }
  }
  if (!parts.length) {
    parts.push('No cell changed');
  }
  parts.push(`${counts.unchanged ?? 0} unchanged`);
  return parts.join(', ');
}

const PART_NAMES: Record<string, string> = {
  source: 'code',
  outputs: 'outputs',
  metadata: 'metadata',
  execution_count: 'execution count',
  attachments: 'attachments',
  cell_type: 'cell type'
};

/** What changed in a cell, for people ("code and outputs changed"). */
export function changedPartsText(cell: IDiffCell): string {
  if (cell.status !== 'changed') {
    return cell.status;
  }
  const names = cell.parts.filter(p => p !== 'execution_count' || cell.parts.length === 1).map(p => PART_NAMES[p] ?? p);
  return names.length ? `${names.join(' and ')} changed` : 'changed';
}

/** A cell's label in a comparison: "Cell 3" (its place in the newer version, else the older). */
export function cellLabel(cell: IDiffCell): string {
  const index = cell.new_index ?? cell.old_index;
  return `Cell ${index === null ? '?' : index + 1}${cell.cell_type === 'code' ? '' : ` (${cell.cell_type})`}`;
}

/** Pairs of outputs before / after, side by side (the shorter list padded with null). */
export function outputPairs(outputs: { before: IDiffOutput[]; after: IDiffOutput[] }): [IDiffOutput | null, IDiffOutput | null][] {
  const n = Math.max(outputs.before.length, outputs.after.length);
  const out: [IDiffOutput | null, IDiffOutput | null][] = [];
  for (let i = 0; i < n; i++) {
    out.push([outputs.before[i] ?? null, outputs.after[i] ?? null]);
  }
  return out;
}

/** Whether two summarized outputs show the same thing. */
export function sameOutput(a: IDiffOutput | null, b: IDiffOutput | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The project a Lab file-browser path belongs to and the path inside it, from the projects'
 * folders (the longest folder that contains the path wins); null outside every project.
 */
export function projectOfPath(
  labPath: string,
  projects: IProject[],
  folderOf: (p: IProject) => string
): { project: IProject; path: string } | null {
  const clean = labPath.replace(/^\/+/, '');
  let best: { project: IProject; path: string; len: number } | null = null;
  for (const project of projects) {
    const folder = folderOf(project).replace(/^\/+|\/+$/g, '');
    if (folder && clean.startsWith(folder + '/') && (!best || folder.length > best.len)) {
      best = { project, path: clean.slice(folder.length + 1), len: folder.length };
    }
  }
  return best ? { project: best.project, path: best.path } : null;
}

/** What to tell the user when a restore from the trash failed (409: the path exists again). */
export function trashRestoreError(path: string, status: number, message: string): string {
  if (status === 409) {
    // the service's message says what is in the way and what to do
    return `"${path}" was not restored: ${message}`;
  }
  return `Could not restore "${path}": ${message}`;
}

/** The confirmation text of a version's restore. */
export function restoreQuestion(path: string, v: IVersion): string {
  return (
    `Make the version of ${formatWhen(v.last_modified)} by ${authorText(v.author)} the current "${baseName(path)}"? ` +
    'It becomes a new, newest version; every other version stays in the list.'
  );
}

/** A main-area tab id for a history view of `path` (Lab ids are plain; the path is encoded). */
export function tabId(kind: string, projectId: string, path: string, ...more: string[]): string {
  const enc = (s: string) => Array.from(s, ch => ch.charCodeAt(0).toString(36)).join('');
  return `datadive-${kind}-${projectId}-${enc(path)}${more.map(m => '-' + enc(m)).join('')}`.slice(0, 250);
}

/**
 * Small formatting helpers: sizes, file kinds, notebook names, upload percentages.
 */
import { DATA_EXTENSIONS, matchesExtensions } from './formschema';

export function formatBytes(n: number | undefined): string {
  if (n === undefined || n === null || isNaN(n)) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Is this a file the preview understands (tabular data)? */
export function isDataFile(path: string): boolean {
  return matchesExtensions(path, DATA_EXTENSIONS);
}

export function isNotebook(path: string): boolean {
  return path.toLowerCase().endsWith('.ipynb');
}

/** A notebook file name from what the user typed: trimmed, .ipynb added, no slashes. */
export function notebookFileName(name: string): string {
  const clean = name.trim().replace(/[\\/]/g, '-');
  if (!clean) {
    throw new Error('Enter a notebook name.');
  }
  return clean.toLowerCase().endsWith('.ipynb') ? clean : `${clean}.ipynb`;
}

/** Upload progress as a whole percentage (0..100). */
export function percent(loaded: number, total: number): number {
  if (!total) {
    return 0;
  }
  return Math.max(0, Math.min(100, Math.round((loaded / total) * 100)));
}

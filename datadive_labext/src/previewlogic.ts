/**
 * Pure logic of the preview tab (previewgrid.tsx): what the server's preview answer says about
 * the file, in words and numbers a researcher reads at a glance. No JupyterLab imports (jest).
 */

import type { components as ServiceComponents } from './generated/service';

type Preview = ServiceComponents['schemas']['Preview'];

/** The summary of a file's columns (`preview?summary=1`). */
export type IPreviewSummary = NonNullable<Preview['summary']>;

/** One column's summary. */
export type IColumnSummary = IPreviewSummary['columns'][number];

/** The preview answer the grid shows (rows, columns, counts); the summary comes from a second
 * answer later (null: none; a count estimate is dropped once the count is exact). */
export type IGridPreview = Omit<Preview, 'summary' | 'total_rows_estimate'> & {
  summary?: IPreviewSummary | null;
  total_rows_estimate?: number | null;
};

/** Rows the grid asks for (the service's most). */
export const GRID_ROWS = 1000;

/** A whole number with thousands separators (1,480,000). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number as a summary shows it: integers whole, others to 4 significant digits. */
export function formatNumber(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return v === undefined || v === null ? '' : String(v);
  }
  if (Number.isInteger(v)) {
    return formatCount(v);
  }
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e6)) {
    return v.toExponential(2);
  }
  return String(Number(v.toPrecision(4)));
}

/** "1,234 rows" (exact), "about 1,480,000 rows" (estimated), or "" when nothing is known. */
export function rowCountText(p: Pick<IGridPreview, 'total_rows' | 'total_rows_estimate' | 'rows' | 'truncated'>): string {
  if (typeof p.total_rows === 'number') {
    return `${formatCount(p.total_rows)} row${p.total_rows === 1 ? '' : 's'}`;
  }
  if (typeof p.total_rows_estimate === 'number') {
    return `about ${formatCount(roundEstimate(p.total_rows_estimate))} rows (estimated from the first part of the file)`;
  }
  if (p.truncated === false) {
    return `${formatCount(p.rows.length)} row${p.rows.length === 1 ? '' : 's'}`;
  }
  return 'more rows than shown';
}

/** An estimate rounded to 2 significant digits (claiming more precision would mislead). */
export function roundEstimate(n: number): number {
  if (n < 100) {
    return Math.round(n);
  }
  const p = Math.pow(10, Math.floor(Math.log10(n)) - 1);
  return Math.round(n / p) * p;
}

/** The header line of the tab: rows, columns and what the grid shows. */
export function headerText(p: IGridPreview): string {
  const cols = `${formatCount(p.columns.length)} column${p.columns.length === 1 ? '' : 's'}`;
  const shown = p.truncated ? ` · first ${formatCount(p.rows.length)} shown` : '';
  return `${rowCountText(p)} · ${cols}${shown}`;
}

/** What the summaries are computed from, in words. */
export function coverageText(s: IPreviewSummary): string {
  if (s.complete) {
    return `Summaries of all ${formatCount(s.rows)} rows.`;
  }
  const mb = typeof s.bytes === 'number' ? ` (${(s.bytes / (1 << 20)).toFixed(1)} MB)` : '';
  return `Summaries of the first ${formatCount(s.rows)} rows${mb}; the file goes on.`;
}

/** "3 (2.1%)" / "none". */
export function missingText(c: Pick<IColumnSummary, 'count' | 'missing'>): string {
  if (!c.missing) {
    return 'none';
  }
  const total = c.count + c.missing;
  const pct = total ? (100 * c.missing) / total : 0;
  return `${formatCount(c.missing)} (${pct < 0.1 ? '<0.1' : Number(pct.toFixed(1))}%)`;
}

/** The bars of a column's small distribution, heights 0..1, with a label for each. */
export function distributionBars(c: IColumnSummary): { height: number; label: string }[] {
  if (c.histogram && c.histogram.counts.length) {
    const { edges, counts } = c.histogram;
    const most = Math.max(...counts, 1);
    return counts.map((n, i) => ({
      height: n / most,
      label: `${formatNumber(edges[i])} to ${formatNumber(edges[i + 1] ?? edges[i])}: ${formatCount(n)}`
    }));
  }
  if (c.top && c.top.length && !allDistinct(c)) {
    const most = Math.max(...c.top.map(t => t[1]), 1);
    const bars = c.top.map(([v, n]) => ({ height: n / most, label: `${v === '' ? '(empty text)' : v}: ${formatCount(n)}` }));
    if (c.other) {
      bars.push({ height: Math.min(1, c.other / most), label: `other values: ${formatCount(c.other)}` });
    }
    return bars;
  }
  return [];
}

/** Every value differs (an identifier): a bar per value would say nothing. */
export function allDistinct(c: IColumnSummary): boolean {
  return c.count > 1 && c.distinct === c.count;
}

/** One sentence describing the distribution (the bars' accessible name). */
export function distributionText(c: IColumnSummary): string {
  if (c.histogram) {
    return `Histogram of ${c.name} from ${formatNumber(c.min)} to ${formatNumber(c.max)}`;
  }
  if (allDistinct(c)) {
    return `Every value of ${c.name} differs`;
  }
  if (c.top && c.top.length) {
    return `Most frequent values of ${c.name}: ${c.top
      .slice(0, 3)
      .map(([v, n]) => `${v} (${formatCount(n)})`)
      .join(', ')}`;
  }
  return `No distribution for ${c.name}`;
}

/** The text of one grid cell (missing values stay empty). */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) {
    return '';
  }
  if (typeof v === 'number') {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(10)));
  }
  if (typeof v === 'object') {
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * Column widths in pixels for the grid: wide enough for the header (name and type) and for the
 * longest of the first rows, within [min, max]. `charWidth` is the average glyph width.
 */
export function columnWidths(p: IGridPreview, charWidth = 7.5, min = 64, max = 320): number[] {
  return p.columns.map((c, j) => {
    let longest = Math.max(c.name.length, c.type.length + 2);
    for (let i = 0; i < Math.min(p.rows.length, 200); i++) {
      longest = Math.max(longest, cellText(p.rows[i]?.[j]).length);
    }
    return Math.max(min, Math.min(max, Math.ceil(longest * charWidth + 16)));
  });
}

/** Is a column type numeric (right-aligned in the grid)? */
export function isNumericType(type: string): boolean {
  return type === 'integer' || type === 'number';
}

/** The summary of a column by name, if the summary has come in. */
export function summaryOf(p: IGridPreview, name: string): IColumnSummary | undefined {
  return p.summary?.columns.find(c => c.name === name);
}

/** A summary's "min – max · mean" text ('' when the column has none). */
export function rangeText(c: IColumnSummary): string {
  if (c.min === undefined && c.max === undefined) {
    if (allDistinct(c)) {
      return 'every value differs';
    }
    return (c.top ?? [])
      .slice(0, 3)
      .map(([v, n]) => `${v} (${formatCount(n)})`)
      .join(', ');
  }
  const range = `${formatNumber(c.min)} – ${formatNumber(c.max)}`;
  return typeof c.mean === 'number' ? `${range} · mean ${formatNumber(c.mean)}` : range;
}

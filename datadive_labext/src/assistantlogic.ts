/**
 * Pure logic of the Datadive Assistant tab and the codebook editor: which columns each picker
 * offers (by codebook level), the request the server's `datadive/api/assist` route takes, and how
 * its answer, a recheck and codebook edits are put into words. No JupyterLab imports: jest-tested.
 * The statistics are the server's; nothing here decides a test.
 */

import type { Answer } from './api';
import type { components, paths } from './generated/server';

type Schemas = components['schemas'];

export type Level = 'nominal' | 'ordinal' | 'scale' | 'identifier' | 'text';
export const LEVELS: Level[] = ['nominal', 'ordinal', 'scale', 'identifier', 'text'];
export const LEVEL_HELP: Record<Level, string> = {
  nominal: 'categories without order (group, country)',
  ordinal: 'ordered categories (Likert item, education level)',
  scale: 'numbers you can average (age, score, reaction time)',
  identifier: 'identifies a respondent (ID, e-mail); not analysed',
  text: 'free text answers; not analysed'
};

/** A column of a dataset's codebook (docs/survey-data.md); `level` is one of LEVELS. */
export type ICodebookColumn = ICodebook['columns'][number];
export type ICodebook = Schemas['Codebook'];
export type ICodebookAnswer = Schemas['CodebookAnswer'];
/** The assistant's answer: the chosen test, its checks, the result and the code. */
export type IAssistAnswer = Schemas['AssistAnswer'];
export type ICheck = NonNullable<IAssistAnswer['checks']>[number];
/** The answer of re-checking an inserted cell on the current data. */
export type IRecheckAnswer = Answer<paths['/api/assist/recheck'], 'post'>;
/** The distinct values of a column (group pickers). */
export type IValuesAnswer = Answer<paths['/api/values/{path}'], 'get'>;

// ---- questions and pickers --------------------------------------------------------------------

export type QuestionKind = 'compare' | 'repeated' | 'relationship' | 'association' | 'one_sample';

export const QUESTIONS: { id: QuestionKind; label: string; hint: string }[] = [
  { id: 'compare', label: 'Compare groups', hint: 'Does a measure differ between groups (e.g. score by treatment)?' },
  { id: 'repeated', label: 'Change over time / repeated measures', hint: 'The same people measured several times or under several conditions.' },
  { id: 'relationship', label: 'Relationship between two variables', hint: 'Do two measures go together (correlation)?' },
  { id: 'association', label: 'Association of two categorical variables', hint: 'Are two sets of categories related (e.g. smoker by sex)?' },
  { id: 'one_sample', label: 'One group against a value', hint: 'Does the average differ from a known or hypothesised value?' }
];

/** A variable the researcher picks, and which codebook levels it may have. */
export type Role =
  | 'outcome'
  | 'group'
  | 'factor2'
  | 'covariate'
  | 'paired'
  | 'within'
  | 'subject'
  | 'x'
  | 'y';

export interface IRoleSpec {
  role: Role;
  label: string;
  levels: Level[];
  optional?: boolean;
  /** Several columns (wide repeated measures). */
  multiple?: boolean;
}

const CATEGORICAL: Level[] = ['nominal', 'ordinal'];
const MEASURE: Level[] = ['scale'];

export type Layout = 'wide' | 'long';

/** The pickers of a question, in the order they are shown. */
export function rolesFor(kind: QuestionKind, layout: Layout = 'wide'): IRoleSpec[] {
  switch (kind) {
    case 'compare':
      return [
        { role: 'outcome', label: 'Outcome (what you measured)', levels: MEASURE },
        { role: 'group', label: 'Groups (compare by)', levels: CATEGORICAL },
        { role: 'factor2', label: 'Second factor (optional)', levels: CATEGORICAL, optional: true },
        { role: 'covariate', label: 'Covariate to adjust for (optional)', levels: MEASURE, optional: true }
      ];
    case 'repeated':
      return layout === 'wide'
        ? [{ role: 'paired', label: 'Measurements (one column per time point)', levels: [...MEASURE, ...CATEGORICAL], multiple: true }]
        : [
            { role: 'outcome', label: 'Outcome', levels: MEASURE },
            { role: 'within', label: 'Time point / condition', levels: CATEGORICAL },
            { role: 'subject', label: 'Participant', levels: ['identifier', 'nominal'] }
          ];
    case 'relationship':
      return [
        { role: 'x', label: 'First variable', levels: ['scale', 'ordinal'] },
        { role: 'y', label: 'Second variable', levels: ['scale', 'ordinal'] }
      ];
    case 'association':
      return [
        { role: 'x', label: 'First categorical variable', levels: CATEGORICAL },
        { role: 'y', label: 'Second categorical variable', levels: CATEGORICAL }
      ];
    case 'one_sample':
      return [{ role: 'outcome', label: 'Outcome', levels: MEASURE }];
  }
}

/** Normalise a codebook level (importers may use other spellings). */
export function levelOf(column: ICodebookColumn): Level {
  const raw = String(column.level ?? '').toLowerCase();
  if ((LEVELS as string[]).includes(raw)) {
    return raw as Level;
  }
  if (['interval', 'ratio', 'continuous', 'numeric'].includes(raw)) {
    return 'scale';
  }
  if (['categorical', 'binary'].includes(raw)) {
    return 'nominal';
  }
  if (['id', 'identity'].includes(raw)) {
    return 'identifier';
  }
  return 'text';
}

/**
 * The columns a picker offers: those whose level it accepts, in file order. Personal-data columns
 * are never offered as variables (only as the participant of a long repeated-measures layout,
 * where an identifier is what is asked for).
 */
export function columnsForRole(codebook: ICodebook | null | undefined, spec: IRoleSpec): ICodebookColumn[] {
  return (codebook?.columns ?? []).filter(
    c => spec.levels.includes(levelOf(c)) && (!c.personal_data || spec.role === 'subject')
  );
}

export interface IQuestion {
  kind: QuestionKind;
  layout: Layout;
  dataset: string;
  picks: Partial<Record<Role, string>>;
  /** Wide repeated measures: the measurement columns, in time order. */
  paired: string[];
  /** Compare groups: the group values to compare (empty = all). */
  groupValues: (string | number | boolean)[];
  /** One group against a value. */
  mu: string;
}

export function emptyQuestion(kind: QuestionKind = 'compare', dataset = ''): IQuestion {
  return { kind, layout: 'wide', dataset, picks: {}, paired: [], groupValues: [], mu: '' };
}

/** What is still missing before the question can be asked (empty: ready). */
export function missingPicks(q: IQuestion, codebook?: ICodebook | null): string[] {
  const out: string[] = [];
  if (!q.dataset) {
    out.push('Choose a dataset.');
  }
  const known = new Set((codebook?.columns ?? []).map(c => c.name));
  for (const spec of rolesFor(q.kind, q.layout)) {
    if (spec.multiple) {
      if (q.paired.length < 2) {
        out.push('Choose at least two measurement columns.');
      }
      continue;
    }
    const value = q.picks[spec.role];
    if (!value && !spec.optional) {
      out.push(`Choose the ${spec.label.replace(/ \(.*\)$/, '').toLowerCase()}.`);
    } else if (value && codebook && !known.has(value)) {
      out.push(`Column "${value}" is not in this dataset any more; choose again.`);
    }
  }
  const used = [...Object.values(q.picks).filter(Boolean), ...q.paired];
  if (new Set(used).size < used.length) {
    out.push('Each variable can be used once only.');
  }
  if (q.kind === 'compare' && q.groupValues.length === 1) {
    out.push('Choose at least two groups to compare (or none for all).');
  }
  if (q.kind === 'one_sample' && (q.mu.trim() === '' || !Number.isFinite(Number(q.mu)))) {
    out.push('Enter the value to compare against (a number).');
  }
  return out;
}

/** The body of `POST datadive/api/assist` for a question (keys not used are left out);
 * `notebook`: the notebook the cell will be inserted into. */
export function buildAssistRequest(q: IQuestion, folder = '', notebook?: string | null): Record<string, unknown> {
  const path = folder ? `${folder.replace(/\/$/, '')}/${q.dataset}` : q.dataset;
  const body: Record<string, unknown> = { path };
  if (notebook) {
    // the cell loads the data relative to the notebook it goes into
    body.notebook = notebook;
  }
  const p = q.picks;
  switch (q.kind) {
    case 'compare':
      body.outcome = p.outcome;
      if (p.factor2) {
        body.groups = [p.group, p.factor2];
      } else {
        body.group = p.group;
      }
      if (p.covariate) {
        body.covariate = p.covariate;
      }
      if (q.groupValues.length >= 2 && p.group) {
        // the group values to compare, as they are in the data (others are left out)
        body.levels = [...q.groupValues];
      }
      break;
    case 'repeated':
      if (q.layout === 'long') {
        body.outcome = p.outcome;
        body.within = p.within;
        body.subject = p.subject;
      } else if (q.paired.length === 2) {
        body.outcome = q.paired[0];
        body.paired_with = q.paired[1];
      } else {
        body.within_columns = [...q.paired];
      }
      break;
    case 'relationship':
    case 'association':
      body.x = p.x;
      body.y = p.y;
      break;
    case 'one_sample':
      body.outcome = p.outcome;
      body.mu = Number(q.mu);
      break;
  }
  return body;
}

// ---- the answer in words ----------------------------------------------------------------------

export const TEST_NAMES: Record<string, string> = {
  one_sample_t: 'One-sample t-test',
  wilcoxon_one_sample: 'Wilcoxon signed-rank test (one sample)',
  t_test_ind: "Student's t-test (independent samples)",
  welch_t: "Welch's t-test",
  mann_whitney: 'Mann-Whitney U test',
  t_test_paired: 'Paired t-test',
  wilcoxon: 'Wilcoxon signed-rank test',
  one_way_anova: 'One-way ANOVA',
  welch_anova: "Welch's ANOVA",
  kruskal: 'Kruskal-Wallis H test',
  rm_anova: 'Repeated-measures ANOVA',
  friedman: 'Friedman test',
  mcnemar: "McNemar's test",
  cochran_q: "Cochran's Q test",
  chi2_independence: 'Chi-square test of independence',
  fisher_exact: "Fisher's exact test",
  pearson: 'Pearson correlation',
  spearman: 'Spearman rank correlation',
  ancova: 'ANCOVA',
  two_way_anova: 'Two-way ANOVA'
};

export function testName(id: string | undefined | null, given?: string | null): string {
  return given || (id ? TEST_NAMES[id] ?? id : '');
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** A p value as APA writes it: "< .001", else three decimals without the leading zero. */
export function formatP(p: unknown): string {
  if (!isNum(p)) {
    return '—';
  }
  if (p < 0.001) {
    return '< .001';
  }
  const s = p >= 0.9995 ? '1.000' : p.toFixed(3);
  return s.replace(/^0\./, '.');
}

/** A statistic with `digits` decimals ("—" when missing; large numbers keep their digits). */
export function formatNumber(x: unknown, digits = 2): string {
  if (!isNum(x)) {
    return '—';
  }
  if (x !== 0 && Math.abs(x) < 10 ** -digits) {
    return x.toExponential(1);
  }
  return x.toFixed(digits);
}

/** Degrees of freedom: one number, or several (F(2, 27)). */
export function formatDof(dof: unknown): string {
  if (Array.isArray(dof)) {
    return dof.map(d => (isNum(d) && !Number.isInteger(d) ? d.toFixed(2) : String(d))).join(', ');
  }
  if (isNum(dof)) {
    return Number.isInteger(dof) ? String(dof) : dof.toFixed(2);
  }
  return dof === null || dof === undefined ? '' : String(dof);
}

export interface ICheckRow {
  name: string;
  statistic: string;
  p: string;
  verdict: 'passed' | 'failed' | 'info';
  detail: string;
}

export function checkRows(checks: ICheck[] | undefined): ICheckRow[] {
  return (checks ?? []).map(c => ({
    name: c.name,
    statistic: formatNumber(c.statistic, 3),
    p: formatP(c.p),
    verdict: c.passed === true ? 'passed' : c.passed === false ? 'failed' : 'info',
    detail: c.detail ?? ''
  }));
}

/** The effect size in words: "Hedges' g = 0.84, 95% CI [0.12, 1.55]". */
export function formatEffectSize(es: unknown): string {
  if (es === null || es === undefined) {
    return '';
  }
  if (isNum(es)) {
    return `effect size = ${formatNumber(es)}`;
  }
  if (typeof es !== 'object') {
    return String(es);
  }
  const e = es as Record<string, any>;
  const name = e.name ?? e.measure ?? e.kind ?? 'effect size';
  const value = e.value ?? e.estimate;
  let out = `${name} = ${formatNumber(value)}`;
  const ci: unknown = e.ci ?? (e.ci_low !== undefined ? [e.ci_low, e.ci_high] : e.ci95);
  if (Array.isArray(ci) && ci.length === 2 && isNum(ci[0]) && isNum(ci[1])) {
    const conf = e.confidence ?? e.ci_level;
    const level = isNum(conf) ? Math.round(conf * (conf <= 1 ? 100 : 1)) : 95;
    out += `, ${level}% CI [${formatNumber(ci[0])}, ${formatNumber(ci[1])}]`;
  }
  if (e.interpretation) {
    out += ` (${e.interpretation})`;
  }
  return out;
}

/** The robust alternative: a test id, or {test, test_name, statistic, p, why}. */
export function formatAlternative(alt: unknown): string {
  if (!alt) {
    return '';
  }
  if (typeof alt === 'string') {
    return testName(alt);
  }
  const a = alt as Record<string, any>;
  let out = testName(a.test, a.test_name ?? a.name);
  if (a.apa) {
    out += `: ${a.apa}`;
  } else if (isNum(a.statistic)) {
    out += `: statistic = ${formatNumber(a.statistic)}, p ${pClause(a.p)}`;
  }
  const note = a.note ?? a.why ?? a.when;
  if (note) {
    out += ` (${note})`;
  }
  return out;
}

/** "= .023" or "< .001" (to follow a "p"). */
export function pClause(p: unknown): string {
  const s = formatP(p);
  return s.startsWith('<') ? s : `= ${s}`;
}

export interface IPostHoc {
  title: string;
  columns: string[];
  rows: string[][];
}

/** The post-hoc table (list of comparisons, or {test, correction, comparisons|table}); null if none. */
export function postHocTable(ph: unknown): IPostHoc | null {
  if (!ph) {
    return null;
  }
  let rows: Record<string, unknown>[] = [];
  let title = 'Post hoc comparisons';
  if (Array.isArray(ph)) {
    rows = ph as Record<string, unknown>[];
  } else if (typeof ph === 'object') {
    const o = ph as Record<string, any>;
    rows = o.comparisons ?? o.table ?? o.rows ?? [];
    const test = o.test_name ?? o.name ?? (o.test ? testName(o.test) : '');
    const correction = o.correction ?? o.padjust ?? o.p_adjust;
    title = [test || title, correction ? `(${correction} correction)` : ''].filter(Boolean).join(' ');
  } else {
    return { title: String(ph), columns: [], rows: [] };
  }
  if (!Array.isArray(rows) || !rows.length) {
    return { title, columns: [], rows: [] };
  }
  const columns = Object.keys(rows[0]);
  return {
    title,
    columns,
    rows: rows.map(r =>
      columns.map(c => {
        const v = r[c];
        return /^p($|[-_])|^p-/.test(c.toLowerCase()) ? formatP(v) : isNum(v) ? formatNumber(v, 3) : v === null || v === undefined ? '' : String(v);
      })
    )
  };
}

/** The reasoning as lines: a list, lines, or sentences ("Question: …. Rule: … → …."). */
export function whyLines(why: unknown): string[] {
  if (Array.isArray(why)) {
    return why.map(String).filter(Boolean);
  }
  return why
    ? String(why)
        .split(/\n+|(?<=[.?!])\s+(?=[A-Z])/)
        .map(s => s.trim())
        .filter(Boolean)
    : [];
}

/** The reasoning without the sentences that repeat a check (the checks are listed with their
 * numbers already) or the alternative (when shown on its own): the question and the rule. */
export function decidingLines(why: unknown, checks: ICheck[] | undefined, alternativeShown = false): string[] {
  const names = (checks ?? []).map(c => c.name).filter(Boolean);
  if (alternativeShown) {
    names.push('Robust alternative');
  }
  return whyLines(why).filter(line => !names.some(n => line.startsWith(n)));
}

/** The main result in one line, for when the server sends no APA line. */
export function resultLine(a: IAssistAnswer): string {
  const dof = formatDof(a.dof);
  return `${testName(a.test, a.test_name)}: statistic${dof ? ` (df ${dof})` : ''} = ${formatNumber(a.statistic)}, p ${pClause(a.p)}`;
}

// ---- inserted cells and recheck -----------------------------------------------------------------

/** The assistant's record in a cell's metadata (`datadive.assistant`), or null. */
export function assistantMetaOf(metadata: any): Record<string, any> | null {
  const meta = metadata?.datadive?.assistant ?? metadata?.assistant;
  return meta && typeof meta === 'object' ? meta : null;
}

/** Normalise a relative POSIX path ("a/./b/../c" → "a/c"); null if it leaves the root. */
export function normalizePath(path: string): string | null {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') {
      continue;
    }
    if (seg === '..') {
      if (!out.length) {
        return null;
      }
      out.pop();
    } else {
      out.push(seg);
    }
  }
  return out.join('/');
}

/** The data file an assistant cell was made from: the contents path its record keeps
 * (`data.path`); empty when not recorded or outside the root. */
export function dataPathOf(meta: Record<string, any>): string {
  const p = meta.data?.path ?? meta.path ?? '';
  if (typeof p !== 'string' || !p || p.startsWith('/')) {
    return '';
  }
  return normalizePath(p) ?? '';
}

/** What a recheck tells the researcher. */
export function recheckSummary(r: IRecheckAnswer, before?: string): { changed: boolean; text: string } {
  const now = r.answer ? testName(r.answer.test, r.answer.test_name) : '';
  if (r.changed) {
    const text = r.message || `The recommendation changed${before ? ` from ${testName(before)}` : ''}${now ? ` to ${now}` : ''}.`;
    return { changed: true, text };
  }
  return { changed: false, text: r.message || `The recommendation is unchanged${now ? `: ${now}` : ''}.` };
}

// ---- codebook ---------------------------------------------------------------------------------

/** Value labels as [value, label] pairs, in their order ({"1": "Agree"} or [{value, label}]). */
export function labelEntries(labels: unknown): [string, string][] {
  if (!labels) {
    return [];
  }
  if (Array.isArray(labels)) {
    return labels.map(l =>
      Array.isArray(l) ? [String(l[0]), String(l[1])] : typeof l === 'object' && l ? [String((l as any).value ?? (l as any).code), String((l as any).label ?? '')] : [String(l), String(l)]
    );
  }
  if (typeof labels === 'object') {
    return Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
  }
  return [];
}

/** A column's value labels (the codebook keeps them as `values`). */
export function columnLabels(column: ICodebookColumn): [string, string][] {
  return labelEntries(column.values ?? column.labels);
}

/** Short text of value labels for the codebook table. */
export function labelsText(labels: unknown, max = 6): string {
  const entries = labelEntries(labels);
  const shown = entries.slice(0, max).map(([v, l]) => (v === l ? v : `${v} = ${l}`));
  return shown.join('; ') + (entries.length > max ? `; … (${entries.length - max} more)` : '');
}

/** Missing codes (and ranges) of a column as text. */
export function columnMissingText(column: ICodebookColumn): string {
  const ranges = Array.isArray(column.missing_ranges)
    ? (column.missing_ranges as unknown[][]).map(r => `${r[0]} to ${r[1]}`)
    : [];
  return [missingText(column.missing), ...ranges].filter(Boolean).join(', ');
}

/** Missing codes as text. */
export function missingText(missing: unknown): string {
  if (missing === null || missing === undefined || missing === '') {
    return '';
  }
  if (Array.isArray(missing)) {
    return missing.map(m => (typeof m === 'object' && m ? JSON.stringify(m) : String(m))).join(', ');
  }
  return typeof missing === 'object' ? JSON.stringify(missing) : String(missing);
}

export type ColumnEdit = Partial<Pick<ICodebookColumn, 'level' | 'personal_data' | 'question'>>;

/** A codebook with edits applied (by column name); the original is left unchanged. */
export function applyEdits(codebook: ICodebook, edits: Record<string, ColumnEdit>): ICodebook {
  return { ...codebook, columns: codebook.columns.map(c => (edits[c.name] ? { ...c, ...edits[c.name] } : c)) };
}

/** The edits that really change something, in words ("age: level ordinal → scale"). */
export function describeEdits(codebook: ICodebook, edits: Record<string, ColumnEdit>): string[] {
  const out: string[] = [];
  for (const c of codebook.columns) {
    const e = edits[c.name];
    if (!e) {
      continue;
    }
    if (e.level !== undefined && e.level !== c.level) {
      out.push(`${c.name}: level ${c.level} → ${e.level}`);
    }
    if (e.personal_data !== undefined && Boolean(e.personal_data) !== Boolean(c.personal_data)) {
      out.push(`${c.name}: ${e.personal_data ? 'marked' : 'no longer marked'} as personal data`);
    }
    if (e.question !== undefined && (e.question ?? '') !== (c.question ?? '')) {
      out.push(`${c.name}: question text changed`);
    }
  }
  return out;
}

/** The message for a codebook save that failed (409: someone else saved first). */
export function codebookSaveError(status: number, message: string): string {
  if (status === 409) {
    return 'The codebook was changed by someone else since you opened it: reload it to see their changes, then make yours again.';
  }
  return `Could not save the codebook: ${message}`;
}

/** Files the assistant can read (the data formats the server's importers take). */
export function isAssistantDataFile(path: string): boolean {
  return /\.(csv|tsv|tab|txt|xlsx|xlsm|xls|sav|zsav|parquet)$/i.test(path);
}

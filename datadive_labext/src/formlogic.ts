/**
 * Pure logic of the template form (templateform.tsx): which errors to show and how to say them,
 * which values to preselect, and the choices offered from the running kernel (data frames, their
 * columns, a column's values for `level` inputs). No JupyterLab imports (jest tests it).
 */
import { DATA_EXTENSIONS, matchesExtensions, pickersOf, variableDatasets } from './formschema';

/** An ajv / rjsf validation error, as far as the form reads it. */
export interface IFormError {
  name?: string;
  property?: string;
  message?: string;
  params?: any;
  stack: string;
}

/** A data frame in the notebook's kernel. */
export interface IKernelFrame {
  name: string;
  columns: string[];
  rows?: number;
}

/** The top-level field an error is about. */
export function fieldOf(e: IFormError): string {
  if (e.name === 'required' && e.params?.missingProperty && (!e.property || e.property === '.' || e.property === `.${e.params.missingProperty}`)) {
    return String(e.params.missingProperty);
  }
  const property = String(e.property ?? '');
  const bracketed = /^\.?\['([^']+)'\]/.exec(property); // ajv writes odd names as ['my field']
  return bracketed ? bracketed[1] : property.replace(/^\./, '').split(/[.[]/)[0];
}

function hintOf(prop: any): any {
  return prop?.['x-datadive-input'] ?? prop?.items?.['x-datadive-input'] ?? {};
}

/** What an empty field needs, in words (the message sits under the field's own label). */
function emptyMessage(prop: any): string {
  const hint = hintOf(prop);
  switch (hint.type) {
    case 'column':
      return prop?.type === 'array' ? 'Choose one or more columns.' : 'Choose a column.';
    case 'file':
    case 'dataset':
      return Array.isArray(hint.extensions) && hint.extensions.length ? `Choose a file ending in ${hint.extensions.join(' or ')}.` : 'Choose a file.';
    case 'level':
      return "Choose one of the column's values.";
    case 'variable':
      return 'Enter the name of a data frame (for example df).';
    case 'choice':
      return prop?.type === 'array' ? 'Choose at least one option.' : 'Choose an option.';
    default:
      break;
  }
  if (prop?.enum || prop?.oneOf || prop?.items?.enum) {
    return 'Choose an option.';
  }
  if (prop?.type === 'number' || prop?.type === 'integer') {
    return 'Enter a number.';
  }
  if (prop?.format === 'date') {
    return 'Enter a date such as 2026-03-01.';
  }
  return 'Fill this in.';
}

/** One error in words ("Choose a file ending in .csv.", not "must have required property 'CSV file'"). */
export function errorInWords(e: IFormError, schema: any): string {
  const field = fieldOf(e);
  const prop = schema?.properties?.[field];
  const hint = hintOf(prop);
  const p = e.params ?? {};
  switch (e.name) {
    case 'required':
      return emptyMessage(prop);
    case 'minLength':
      return Number(p.limit) <= 1 ? emptyMessage(prop) : `Use at least ${p.limit} characters.`;
    case 'maxLength':
      return `Use at most ${p.limit} characters.`;
    case 'pattern':
      if (hint.type === 'variable') {
        return 'Use a Python name: letters, digits and _, not starting with a digit (for example df).';
      }
      if (hint.type === 'file' && Array.isArray(hint.extensions) && hint.extensions.length) {
        return `Choose a file ending in ${hint.extensions.join(' or ')}.`;
      }
      return 'This value does not have the expected form.';
    case 'enum':
    case 'const':
    case 'oneOf':
    case 'anyOf':
      return 'Choose one of the listed values.';
    case 'minimum':
      return `Enter ${p.limit} or more.`;
    case 'maximum':
      return `Enter ${p.limit} or less.`;
    case 'exclusiveMinimum':
      return `Enter more than ${p.limit}.`;
    case 'exclusiveMaximum':
      return `Enter less than ${p.limit}.`;
    case 'type':
      return p.type === 'integer' ? 'Enter a whole number.' : p.type === 'number' ? 'Enter a number.' : emptyMessage(prop);
    case 'minItems':
      return Number(p.limit) === 1 ? 'Choose at least one.' : `Choose at least ${p.limit}.`;
    case 'maxItems':
      return `Choose at most ${p.limit}.`;
    case 'uniqueItems':
      return 'Choose each value only once.';
    case 'format':
      return p.format === 'date' ? 'Enter a date such as 2026-03-01.' : `Enter a valid ${p.format}.`;
    default: {
      const msg = String(e.message ?? '').replace(/^must /, '');
      return msg ? `The value must ${msg}.` : 'This value is not valid.';
    }
  }
}

/** The errors to show now: those of touched fields, or all once Insert was pressed. */
export function visibleErrors<T extends IFormError>(errors: T[], touched: ReadonlySet<string>, submitted: boolean): T[] {
  return submitted ? errors : errors.filter(e => touched.has(fieldOf(e)));
}

/** rjsf's error schema ({field: {__errors: [...]}}) for errors, in words, one message per field. */
export function errorSchemaOf(errors: IFormError[], schema: any): Record<string, { __errors: string[] }> {
  const out: Record<string, { __errors: string[] }> = {};
  for (const e of errors) {
    const field = fieldOf(e);
    if (!field) {
      continue;
    }
    const message = errorInWords(e, schema);
    const entry = (out[field] = out[field] ?? { __errors: [] });
    if (!entry.__errors.includes(message)) {
      entry.__errors.push(message);
    }
  }
  return out;
}

/** Top-level fields whose value differs between two form states. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  return [...keys].filter(k => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]));
}

/** The field of an rjsf element id ("dd-form_equal_var_0" → "equal_var"), or ''. */
export function fieldFromId(id: string, fields: string[], prefix = 'dd-form'): string {
  const rest = id.startsWith(`${prefix}_`) ? id.slice(prefix.length + 1) : '';
  let best = '';
  for (const f of fields) {
    if ((rest === f || rest.startsWith(`${f}_`)) && f.length > best.length) {
      best = f;
    }
  }
  return best;
}

/**
 * File inputs left empty whose choice is obvious: exactly one of the project's files fits (by
 * the input's extensions; data files for a dataset). Returns the values with those filled.
 */
export function preselectFiles(schema: any, ui: Record<string, any>, values: Record<string, unknown>, files: string[]): Record<string, unknown> {
  const out = { ...values };
  for (const [name, picker] of Object.entries(pickersOf(schema, ui))) {
    if (picker.kind !== 'file' || schema?.properties?.[name]?.type === 'array') {
      continue;
    }
    const current = out[name];
    if (current !== undefined && current !== null && current !== '') {
      continue;
    }
    const candidates = files.filter(f => matchesExtensions(f, picker.extensions.length ? picker.extensions : DATA_EXTENSIONS));
    if (candidates.length === 1) {
      out[name] = candidates[0];
    }
  }
  return out;
}

/** The `level` inputs of a schema: which column (input) of which dataset (input) they draw from. */
export function levelInputs(schema: any): { name: string; column: string; dataset: string | null; multiple: boolean }[] {
  const out = [];
  for (const [name, prop] of Object.entries<any>(schema?.properties || {})) {
    const hint = hintOf(prop);
    if (hint.type === 'level' && typeof hint.column === 'string') {
      out.push({ name, column: hint.column, dataset: typeof hint.dataset === 'string' ? hint.dataset : null, multiple: prop?.type === 'array' });
    }
  }
  return out;
}

/** A kernel frame by name. */
export function frameNamed(frames: IKernelFrame[], name: unknown): IKernelFrame | undefined {
  return typeof name === 'string' ? frames.find(f => f.name === name) : undefined;
}

/**
 * Columns per dataset input from the kernel: a variable dataset whose value names a data frame
 * of the running kernel gets that frame's columns.
 */
export function kernelColumns(schema: any, ui: Record<string, any>, values: Record<string, unknown>, frames: IKernelFrame[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const ds of variableDatasets(schema, ui)) {
    const frame = frameNamed(frames, values[ds]);
    if (frame) {
      out[ds] = frame.columns;
    }
  }
  return out;
}

/**
 * The form's schema with the kernel's and the file's choices: variable datasets offer the
 * kernel's data frames (the current value stays offered), `level` inputs the column's values.
 * Without choices a field stays free text, so the form never becomes unusable.
 */
export function withChoices(
  formSchema: any,
  templateSchema: any,
  ui: Record<string, any>,
  values: Record<string, unknown>,
  frames: IKernelFrame[],
  levels: Record<string, string[]>
): any {
  const out = JSON.parse(JSON.stringify(formSchema));
  if (frames.length) {
    for (const ds of variableDatasets(templateSchema, ui)) {
      const prop = out.properties?.[ds];
      if (!prop || prop.type !== 'string') {
        continue;
      }
      const names = frames.map(f => f.name);
      const current = values[ds];
      if (typeof current === 'string' && current && !names.includes(current)) {
        names.push(current);
      }
      prop.enum = names;
      delete prop.pattern;
    }
  }
  for (const level of levelInputs(templateSchema)) {
    const known = levels[level.name];
    const prop = out.properties?.[level.name];
    if (!prop || !known || !known.length) {
      continue;
    }
    const target = prop.type === 'array' ? (prop.items = prop.items || { type: 'string' }) : prop;
    const current = values[level.name];
    const offered = [...known];
    for (const v of Array.isArray(current) ? current : [current]) {
      if (typeof v === 'string' && v && !offered.includes(v)) {
        offered.push(v);
      }
    }
    target.enum = offered;
    delete target.pattern;
    if (prop.type === 'array') {
      prop.uniqueItems = true;
    }
  }
  return out;
}

/** Distinct values (as text, sorted naturally) of a column in preview rows. */
export function distinctValues(columns: { name: string }[], rows: unknown[][], column: string, limit = 200): string[] {
  const j = columns.findIndex(c => c.name === column);
  if (j < 0) {
    return [];
  }
  const seen = new Set<string>();
  for (const r of rows) {
    const v = r?.[j];
    if (v !== null && v !== undefined && v !== '') {
      seen.add(String(v));
      if (seen.size >= limit) {
        break;
      }
    }
  }
  return [...seen].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

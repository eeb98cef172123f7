/**
 * The server's JSON Schema of a template's values as the form shows it: column and file pickers,
 * the rjsf uiSchema, friendly error messages, defaults. No JupyterLab imports (jest tests it).
 */

/** What kind of picker a form field is: a column of a dataset, a project file, or a plain field. */
export type PickerKind = { kind: 'column'; dataset: string | null; multiple: boolean } | { kind: 'file'; extensions: string[] } | null;

export const DATA_EXTENSIONS = ['.csv', '.tsv', '.parquet', '.xlsx', '.xls', '.json', '.feather'];

/**
 * Recognise column and file pickers. A template marks them in the property schema
 * (`"x-datadive": {"widget": "column", "dataset": "data"}`, `"format": "column"`,
 * `"x-widget": "file"`) or in its UI hints (`ui[field]["ui:widget"] = "column"`,
 * `ui[field]["ui:options"].dataset`).
 */
export function pickerOf(name: string, prop: any, ui: Record<string, any>): PickerKind {
  if (!prop || typeof prop !== 'object') {
    return null;
  }
  const multiple = prop.type === 'array';
  const item = multiple ? prop.items ?? {} : prop;
  const hint = {
    ...(item['x-datadive'] || {}),
    ...(item['x-datadive-input'] || {}),
    ...(prop['x-datadive'] || {}),
    ...(prop['x-datadive-input'] || {})
  };
  const uiField = ui?.[name] || {};
  const uiOptions = uiField['ui:options'] || {};
  const widget =
    hint.widget ??
    hint.picker ??
    (hint.type === 'column' || hint.type === 'file' ? hint.type : undefined) ??
    prop['x-widget'] ??
    item['x-widget'] ??
    uiField['ui:widget'] ??
    uiOptions.widget ??
    (item.format === 'column' || item.format === 'file' || item.format === 'dataset' ? item.format : undefined);
  if (widget === 'column' || widget === 'columns') {
    const dataset = hint.dataset ?? hint.source ?? uiOptions.dataset ?? uiOptions.source ?? prop['x-dataset'] ?? null;
    return { kind: 'column', dataset, multiple };
  }
  if (widget === 'file' || widget === 'dataset') {
    const ext = hint.extensions ?? hint.accept ?? uiOptions.extensions ?? uiOptions.accept;
    const extensions = Array.isArray(ext) ? ext : typeof ext === 'string' ? ext.split(',').map(s => s.trim()) : widget === 'dataset' ? DATA_EXTENSIONS : [];
    return { kind: 'file', extensions };
  }
  return null;
}

/** Every picker field of a template's input schema, by field name. */
export function pickersOf(schema: any, ui: Record<string, any>): Record<string, Exclude<PickerKind, null>> {
  const out: Record<string, Exclude<PickerKind, null>> = {};
  const props = schema?.properties || {};
  const fileFields: string[] = [];
  for (const [name, prop] of Object.entries(props)) {
    const p = pickerOf(name, prop, ui);
    if (p) {
      out[name] = p;
      if (p.kind === 'file') {
        fileFields.push(name);
      }
    }
  }
  // A column picker that does not name its dataset takes the (first) file picker.
  for (const p of Object.values(out)) {
    if (p.kind === 'column' && !p.dataset && fileFields.length) {
      p.dataset = fileFields[0];
    }
  }
  return out;
}

/** Does a path end with one of the extensions (case-insensitive)? No extensions: everything. */
export function matchesExtensions(path: string, extensions: string[]): boolean {
  if (!extensions.length) {
    return true;
  }
  const lower = path.toLowerCase();
  return extensions.some(e => lower.endsWith((e.startsWith('.') ? e : `.${e}`).toLowerCase()));
}

/**
 * The schema the form shows: the template's input schema with column pickers restricted to the
 * columns of the chosen dataset and file pickers to the project's files. Without known choices a
 * picker stays a free text field (so a form never becomes unusable).
 */
export function formSchema(
  schema: any,
  ui: Record<string, any>,
  choices: { files: string[]; columns: Record<string, string[]> }
): any {
  const out = JSON.parse(JSON.stringify(schema || { type: 'object', properties: {} }));
  out.type = out.type || 'object';
  const pickers = pickersOf(schema, ui);
  for (const [name, picker] of Object.entries(pickers)) {
    const prop = out.properties[name];
    const target = prop.type === 'array' ? (prop.items = prop.items || { type: 'string' }) : prop;
    let values: string[] = [];
    if (picker.kind === 'file') {
      values = choices.files.filter(f => matchesExtensions(f, picker.extensions));
    } else if (picker.dataset) {
      values = choices.columns[picker.dataset] || [];
    }
    if (values.length) {
      target.enum = values;
      if (prop.type === 'array') {
        prop.uniqueItems = true;
      }
    }
    delete target.format;
    if (values.length) {
      delete target.pattern;
    }
  }
  stripUnsupportedPatterns(out);
  for (const prop of Object.values<any>(out.properties || {})) {
    addConstType(prop);
    if (prop?.type === 'array') {
      addConstType(prop.items);
    }
  }
  return out;
}

/** An ajv / rjsf validation error, as far as the panel reads and rewrites it. */
export interface IFormError {
  name?: string;
  property?: string;
  message?: string;
  stack: string;
  params?: any;
}

/**
 * Say what a field needs in words instead of ajv's "must match pattern "^[^\W\d]\w*$"":
 * a variable input must be a Python name; a file input must have one of its extensions.
 */
export function friendlyErrors<T extends IFormError>(errors: T[], schema: any): T[] {
  return errors.map(e => {
    if (e.name !== 'pattern') {
      return e;
    }
    const field = String(e.property ?? '').replace(/^\./, '').split(/[.[]/)[0];
    const prop = schema?.properties?.[field];
    const hint = prop?.['x-datadive-input'] ?? prop?.items?.['x-datadive-input'] ?? {};
    let message = '';
    if (hint.type === 'variable') {
      message = 'must be a Python name: letters, digits and _, not starting with a digit';
    } else if (hint.type === 'file' && Array.isArray(hint.extensions) && hint.extensions.length) {
      message = `must be a file ending in ${hint.extensions.join(', ')}`;
    }
    if (!message) {
      return e;
    }
    const title = prop?.title ?? field;
    return { ...e, message, stack: `${title} ${message}` };
  });
}

/**
 * A choice with labels is `oneOf: [{const, title}]` without a `type`; the form only draws a
 * dropdown for it when the type is known, so add the type of the constants.
 */
export function addConstType(prop: any): void {
  if (!prop || typeof prop !== 'object' || prop.type || !Array.isArray(prop.oneOf)) {
    return;
  }
  const types = new Set(
    prop.oneOf.map((o: any) =>
      o && 'const' in o ? (typeof o.const === 'number' ? (Number.isInteger(o.const) ? 'integer' : 'number') : typeof o.const) : '?'
    )
  );
  if (types.size === 1) {
    const [t] = [...types] as string[];
    if (['string', 'integer', 'number', 'boolean'].includes(t)) {
      prop.type = t;
    }
  } else if ([...types].every(t => t === 'integer' || t === 'number')) {
    prop.type = 'number';
  }
}

/**
 * JavaScript regular expressions have no inline flags: a Python-style `(?i)` pattern would make
 * the form's validator throw. Such a pattern becomes case-insensitive by expanding letters to
 * [xX] classes; the server validates the values again when it renders.
 */
export function stripUnsupportedPatterns(schema: any): void {
  if (!schema || typeof schema !== 'object') {
    return;
  }
  if (typeof schema.pattern === 'string' && schema.pattern.startsWith('(?i)')) {
    schema.pattern = schema.pattern
      .slice(4)
      .replace(/\\.|[a-zA-Z]/g, (m: string) => (m.length === 1 ? `[${m.toLowerCase()}${m.toUpperCase()}]` : m));
  }
  for (const value of Object.values(schema)) {
    if (value && typeof value === 'object') {
      stripUnsupportedPatterns(value);
    }
  }
}

/** Names of the inputs a column picker draws its columns from, that are variables (data frames). */
export function variableDatasets(schema: any, ui: Record<string, any>): string[] {
  const out = new Set<string>();
  for (const p of Object.values(pickersOf(schema, ui))) {
    if (p.kind === 'column' && p.dataset) {
      const ds = schema.properties?.[p.dataset];
      const kind = ds?.['x-datadive-input']?.type;
      if (kind !== 'file') {
        out.add(p.dataset);
      }
    }
  }
  return [...out];
}

/** The rjsf uiSchema: the template's UI hints minus our own picker keys, plus labels. */
export function formUiSchema(schema: any, ui: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [name, value] of Object.entries(ui || {})) {
    if (value && typeof value === 'object') {
      const copy: Record<string, any> = { ...value };
      if (copy['ui:widget'] === 'column' || copy['ui:widget'] === 'file' || copy['ui:widget'] === 'dataset') {
        delete copy['ui:widget'];
      }
      out[name] = copy;
    }
  }
  const pickers = pickersOf(schema, ui);
  for (const [name, picker] of Object.entries(pickers)) {
    const prop = schema.properties[name];
    if (prop.type === 'array' && picker.kind === 'column') {
      out[name] = { ...(out[name] || {}), 'ui:widget': 'checkboxes' };
    }
  }
  return out;
}

/** Default values of a schema's top-level properties. */
export function schemaDefaults(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries<any>(schema?.properties || {})) {
    if (prop && 'default' in prop) {
      out[name] = prop.default;
    }
  }
  return out;
}

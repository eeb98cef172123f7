/**
 * Pure logic of the Datadive panel: no JupyterLab imports, so jest tests it directly.
 *
 * - list normalisation, sorting and filtering of projects, files and templates
 * - the draft store (half-filled template forms survive a reload)
 * - mapping a template's inputs to the JSON Schema the form shows (column / file pickers)
 * - the source hash that tells a generated cell from a hand-edited one
 */

export type Role = 'viewer' | 'editor' | 'owner';

export interface IProject {
  id: string;
  name: string;
  description?: string;
  role?: Role | string;
  owner?: string;
  created?: string;
  updated?: string;
  deleted?: boolean;
  path?: string;
  [key: string]: unknown;
}

export interface IMember {
  kind: 'user' | 'group';
  name: string;
  role: Role | string;
  /** a user JupyterHub does not know yet: the role takes effect at their first sign-in */
  pending?: boolean;
}

export interface IFileEntry {
  path: string;
  name: string;
  type: 'file' | 'directory' | 'notebook';
  size?: number;
  last_modified?: string;
}

export interface ITemplate {
  id: string;
  name: string;
  title: string;
  version: string | number;
  description: string;
  category: string;
  /** The category's place in an analysis, when the server gives it (`category_order`). */
  categoryOrder?: number;
  tags: string[];
  inputs: Record<string, any>;
  ui: Record<string, any>;
}

export interface IPreview {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  total_rows?: number | null;
}

/** Roles in increasing power. */
export const ROLES: Role[] = ['viewer', 'editor', 'owner'];

export function roleRank(role: string | undefined): number {
  const i = ROLES.indexOf((role || '') as Role);
  return i;
}

export function canEdit(role: string | undefined): boolean {
  return roleRank(role) >= 1;
}

export function isOwner(role: string | undefined): boolean {
  return roleRank(role) >= 2;
}

/**
 * The service answers lists either as a bare array or wrapped in an object
 * ({"items": [...], "next": ...} / {"projects": [...]}); return the array.
 */
export function unwrapList<T = any>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) {
    return body as T[];
  }
  if (body && typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    for (const key of [...keys, 'items', 'results', 'data']) {
      if (Array.isArray(obj[key])) {
        return obj[key] as T[];
      }
    }
  }
  return [];
}

/** The cursor / URL of the next page of a paginated answer, or null. */
export function nextPage(body: unknown): string | null {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const obj = body as Record<string, any>;
    const next = obj.next ?? obj.next_cursor ?? obj.cursor ?? null;
    if (typeof next === 'string' && next) {
      return next;
    }
    if (next && typeof next === 'object' && typeof next.url === 'string') {
      return next.url;
    }
  }
  return null;
}

export type ProjectSort = 'name' | 'updated' | 'role';

/** Sort projects: by name (case-insensitive, numeric aware), most recently updated, or role. */
export function sortProjects(projects: IProject[], by: ProjectSort = 'name'): IProject[] {
  const byName = (a: IProject, b: IProject) =>
    a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' });
  const copy = [...projects];
  if (by === 'updated') {
    copy.sort((a, b) => {
      const ta = Date.parse(String(a.updated_at || a.updated || a.created_at || a.created || '')) || 0;
      const tb = Date.parse(String(b.updated_at || b.updated || b.created_at || b.created || '')) || 0;
      return tb - ta || byName(a, b);
    });
  } else if (by === 'role') {
    copy.sort((a, b) => roleRank(b.role as string) - roleRank(a.role as string) || byName(a, b));
  } else {
    copy.sort(byName);
  }
  return copy;
}

/** Projects whose name or description contains every word of the query (case-insensitive). */
export function filterProjects(projects: IProject[], query: string): IProject[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) {
    return projects;
  }
  return projects.filter(p => {
    const hay = `${p.name} ${p.description || ''} ${p.role || ''}`.toLowerCase();
    return words.every(w => hay.includes(w));
  });
}

/** Split projects into the user's own (created by them, else owned) and those shared with them. */
export function splitProjects(projects: IProject[], user?: string): { mine: IProject[]; shared: IProject[] } {
  const mine: IProject[] = [];
  const shared: IProject[] = [];
  for (const p of projects) {
    const own = user && p.created_by ? p.created_by === user : p.role === 'owner';
    (own ? mine : shared).push(p);
  }
  return { mine, shared };
}

/** Normalise one template description from the server into ITemplate. */
export function normalizeTemplate(raw: any): ITemplate {
  const id = String(raw.id ?? raw.name ?? raw.slug ?? '');
  const inputs =
    raw.values_schema ??
    raw.schema ??
    raw.inputs_schema ??
    (Array.isArray(raw.inputs)
      ? inputsToSchema(raw.inputs)
      : raw.inputs && typeof raw.inputs === 'object'
        ? raw.inputs.type
          ? raw.inputs
          : raw.inputs.schema ?? raw.inputs
        : { type: 'object', properties: {} });
  return {
    id,
    name: String(raw.name ?? id),
    title: String(raw.title ?? raw.name ?? id),
    version: raw.version ?? '',
    description: String(raw.description ?? ''),
    category: String(raw.category ?? 'Other'),
    categoryOrder: typeof raw.category_order === 'number' ? raw.category_order : undefined,
    tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
    inputs,
    ui: raw.ui ?? raw.ui_schema ?? raw.uiSchema ?? raw.inputs?.ui ?? {}
  };
}

/** Template gallery filter: free-text search, one category, every chosen tag. */
export function filterTemplates(
  templates: ITemplate[],
  opts: { query?: string; category?: string; tags?: string[] }
): ITemplate[] {
  const words = (opts.query || '').toLowerCase().split(/\s+/).filter(Boolean);
  const tags = (opts.tags || []).map(t => t.toLowerCase());
  return templates
    .filter(t => !opts.category || t.category === opts.category)
    .filter(t => {
      const own = t.tags.map(x => x.toLowerCase());
      return tags.every(tag => own.includes(tag));
    })
    .filter(t => {
      if (!words.length) {
        return true;
      }
      const hay = `${t.title} ${t.name} ${t.description} ${t.category} ${t.tags.join(' ')}`.toLowerCase();
      return words.every(w => hay.includes(w));
    })
    .sort((a, b) => a.category.localeCompare(b.category) || a.title.localeCompare(b.title));
}

/** Sorted distinct categories and tags of a template list. */
export function templateFacets(templates: ITemplate[]): { categories: string[]; tags: string[] } {
  const categories = new Set<string>();
  const tags = new Set<string>();
  for (const t of templates) {
    categories.add(t.category);
    t.tags.forEach(tag => tags.add(tag));
  }
  return { categories: [...categories].sort(), tags: [...tags].sort() };
}

// ---------------------------------------------------------------------------------------------
// Form schema mapping

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

/** JSON Schema of a template's values from its input list (the template document's shape). */
export function inputsToSchema(inputs: any[]): any {
  const properties: Record<string, any> = {};
  const required: string[] = [];
  for (const inp of inputs) {
    let s: any;
    switch (inp.type) {
      case 'number':
      case 'integer':
        s = { type: inp.type };
        if (inp.minimum !== undefined) {
          s.minimum = inp.minimum;
        }
        if (inp.maximum !== undefined) {
          s.maximum = inp.maximum;
        }
        break;
      case 'boolean':
        s = { type: 'boolean' };
        break;
      case 'date':
        s = { type: 'string', format: 'date' };
        break;
      case 'choice': {
        const opts = (inp.options || []).map((o: any) => (o && typeof o === 'object' ? o : { value: o, label: String(o) }));
        s = opts.some((o: any) => o.label !== String(o.value))
          ? { oneOf: opts.map((o: any) => ({ const: o.value, title: o.label })) }
          : { enum: opts.map((o: any) => o.value) };
        break;
      }
      case 'variable':
        s = { type: 'string', pattern: '^[^\\W\\d]\\w*$' };
        break;
      default:
        s = { type: 'string' };
        if (inp.type === 'column' || inp.type === 'file') {
          s.minLength = 1;
        }
    }
    if (inp.multiple && ['choice', 'column', 'file', 'text'].includes(inp.type)) {
      s = { type: 'array', items: s, uniqueItems: true };
    }
    if (inp.title) {
      s.title = inp.title;
    }
    if (inp.help) {
      s.description = inp.help;
    }
    if ('default' in inp) {
      s.default = inp.default;
    }
    s['x-datadive-input'] = { type: inp.type, dataset: inp.dataset, extensions: inp.extensions, multiple: inp.multiple };
    properties[inp.name] = s;
    if (inp.required) {
      required.push(inp.name);
    }
  }
  return { type: 'object', properties, required };
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

// ---------------------------------------------------------------------------------------------
// Drafts

/** The part of the Web Storage API the draft store needs (localStorage in the browser). */
export interface IKeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

export interface IDraft {
  template: string;
  version: string | number;
  project: string | null;
  values: Record<string, unknown>;
  saved: number;
}

/**
 * Half-filled template forms, one per (project, template), kept in a key-value store so a
 * reload keeps them. Drafts older than `maxAgeDays` (the "Keep form drafts for" setting) are
 * dropped when read, listed or pruned.
 */
export class DraftStore {
  constructor(
    private store: IKeyValueStore,
    private prefix = 'datadive:draft:',
    maxAgeDays = 30,
    private now: () => number = () => Date.now()
  ) {
    this.maxAgeDays = maxAgeDays;
  }

  private _maxAgeDays = 30;

  /** Days a draft is kept after its last change (the setting `draftMaxAgeDays`; at least 1). */
  get maxAgeDays(): number {
    return this._maxAgeDays;
  }

  set maxAgeDays(days: number) {
    const n = Number(days);
    this._maxAgeDays = Number.isFinite(n) && n >= 1 ? n : 30;
  }

  private expired(draft: IDraft): boolean {
    return typeof draft?.saved !== 'number' || this.now() - draft.saved > this._maxAgeDays * 86400000;
  }

  key(project: string | null, template: string): string {
    return `${this.prefix}${project ?? '-'}:${template}`;
  }

  save(draft: Omit<IDraft, 'saved'>): IDraft {
    const full: IDraft = { ...draft, saved: this.now() };
    this.store.setItem(this.key(draft.project, draft.template), JSON.stringify(full));
    return full;
  }

  load(project: string | null, template: string): IDraft | null {
    const key = this.key(project, template);
    const text = this.store.getItem(key);
    if (!text) {
      return null;
    }
    try {
      const draft = JSON.parse(text) as IDraft;
      if (this.expired(draft)) {
        this.store.removeItem(key);
        return null;
      }
      return draft;
    } catch {
      this.store.removeItem(key);
      return null;
    }
  }

  discard(project: string | null, template: string): void {
    this.store.removeItem(this.key(project, template));
  }

  /** All drafts that are not too old (e.g. "draft" badges in the gallery), newest first. */
  list(): IDraft[] {
    const out: IDraft[] = [];
    for (const key of this.keys()) {
      try {
        const draft = JSON.parse(this.store.getItem(key) || '') as IDraft;
        if (!this.expired(draft)) {
          out.push(draft);
        }
      } catch {
        /* a broken entry is not a draft; prune() and load() remove it */
      }
    }
    return out.sort((a, b) => b.saved - a.saved);
  }

  /** Remove drafts older than `maxAgeDays` (and broken entries); returns how many went. */
  prune(): number {
    let removed = 0;
    for (const key of this.keys()) {
      let drop = true;
      try {
        drop = this.expired(JSON.parse(this.store.getItem(key) || ''));
      } catch {
        drop = true;
      }
      if (drop) {
        this.store.removeItem(key);
        removed++;
      }
    }
    return removed;
  }

  private keys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.store.length; i++) {
      const key = this.store.key(i);
      if (key && key.startsWith(this.prefix)) {
        keys.push(key);
      }
    }
    return keys;
  }

  /** The most recently saved draft (the form to reopen after a reload), or null. */
  latest(): IDraft | null {
    const all = this.list();
    return all.length ? this.load(all[0].project, all[0].template) : null;
  }
}

/** An in-memory IKeyValueStore (tests, and a fallback where localStorage is unavailable). */
export class MemoryStore implements IKeyValueStore {
  private map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.map.has(key) ? (this.map.get(key) as string) : null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Generated cells

export interface IDatadiveCellMeta {
  template: string;
  version: string | number;
  values: Record<string, unknown>;
  source_hash?: string;
  project?: string | null;
}

/** The datadive metadata of a cell, or null if it was not generated from a template. */
export function datadiveMeta(metadata: any): IDatadiveCellMeta | null {
  const meta = metadata?.datadive;
  if (meta && typeof meta === 'object' && typeof meta.template === 'string') {
    return meta as IDatadiveCellMeta;
  }
  return null;
}

/** Was the cell edited by hand since it was generated? (its source no longer has the recorded hash) */
export function isHandEdited(source: string, meta: IDatadiveCellMeta): boolean {
  if (!meta.source_hash) {
    return false;
  }
  const recorded = meta.source_hash.replace(/^sha256:/, '');
  return sha256Hex(source) !== recorded;
}

/** The cell source as one string (nbformat allows a list of lines). */
export function joinSource(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** SHA-256 of a string's UTF-8 bytes, hex; pure JS (crypto.subtle is missing outside secure contexts). */
export function sha256Hex(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2
  ]);
  const H = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  ]);
  const bitLen = bytes.length * 8;
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const W = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) {
      W[i] = view.getUint32(off + i * 4);
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15];
      const y = W[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + W[i]) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    H[0] += a;
    H[1] += b;
    H[2] += c;
    H[3] += d;
    H[4] += e;
    H[5] += f;
    H[6] += g;
    H[7] += h;
  }
  return Array.from(H, x => x.toString(16).padStart(8, '0')).join('');
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

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

/** Normalise a preview answer ({columns: [{name, type}] | [names], dtypes, rows | data}). */
export function normalizePreview(raw: any): IPreview {
  let columns: { name: string; type: string }[] = [];
  const cols = raw?.columns ?? raw?.schema?.fields ?? [];
  const dtypes = raw?.dtypes ?? raw?.types ?? {};
  if (Array.isArray(cols)) {
    columns = cols.map((c: any, i: number) =>
      typeof c === 'string'
        ? { name: c, type: String((Array.isArray(dtypes) ? dtypes[i] : dtypes[c]) ?? '') }
        : { name: String(c.name), type: String(c.type ?? c.dtype ?? '') }
    );
  }
  let rows: unknown[][] = [];
  const rawRows = raw?.rows ?? raw?.data ?? [];
  if (Array.isArray(rawRows)) {
    rows = rawRows.map((r: any) => (Array.isArray(r) ? r : columns.map(c => r?.[c.name])));
  }
  return { columns, rows, total_rows: raw?.total_rows ?? raw?.row_count ?? null };
}

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

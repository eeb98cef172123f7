import { createHash } from 'crypto';

import sourceHashes from './source_hashes.json';

import { DraftStore, MemoryStore } from '../src/drafts';
import { notebookFileName, percent } from '../src/format';
import { formSchema, formUiSchema, friendlyErrors, matchesExtensions, pickersOf, schemaDefaults, stripUnsupportedPatterns, variableDatasets } from '../src/formschema';
import { filterTemplates, templateFacets } from '../src/gallerylogic';
import { isHandEdited, sourceHash } from '../src/generatedcells';
import { filterProjects, sortProjects, splitProjects } from '../src/projectlistlogic';
import { overallSync } from '../src/synclogic';
import type { IProject, ITemplate } from '../src/types';

const projects = [
  { id: '1', name: 'Study 10', role: 'owner', created_by: 'ana', updated_at: '2026-01-02T00:00:00Z' },
  { id: '2', name: 'study 2', role: 'viewer', created_by: 'bo', updated_at: '2026-03-01T00:00:00Z' },
  { id: '3', name: 'Alpha', role: 'editor', created_by: 'bo', description: 'sleep survey', updated_at: '2025-12-01T00:00:00Z' }
] as IProject[];

describe('projects', () => {
  it('sorts by name, numeric-aware and case-insensitive', () => {
    expect(sortProjects(projects, 'name').map(p => p.name)).toEqual(['Alpha', 'study 2', 'Study 10']);
  });
  it('sorts by most recently updated', () => {
    expect(sortProjects(projects, 'updated').map(p => p.id)).toEqual(['2', '1', '3']);
  });
  it('sorts by role, owners first', () => {
    expect(sortProjects(projects, 'role').map(p => p.role)).toEqual(['owner', 'editor', 'viewer']);
  });
  it('does not mutate its input', () => {
    const copy = [...projects];
    sortProjects(projects, 'name');
    expect(projects).toEqual(copy);
  });
  it('filters on every word in name, description and role', () => {
    expect(filterProjects(projects, 'study').map(p => p.id)).toEqual(['1', '2']);
    expect(filterProjects(projects, 'SLEEP')).toHaveLength(1);
    expect(filterProjects(projects, 'study viewer').map(p => p.id)).toEqual(['2']);
    expect(filterProjects(projects, '  ')).toHaveLength(3);
  });
  it('splits own projects from shared ones', () => {
    const { mine, shared } = splitProjects(projects, 'ana');
    expect(mine.map(p => p.id)).toEqual(['1']);
    expect(shared.map(p => p.id)).toEqual(['2', '3']);
    expect(splitProjects(projects).mine.map(p => p.id)).toEqual(['1']);
  });
});

const rawTemplates = [
  { id: 'describe', title: 'Describe a dataset', category: 'Explore', tags: ['summary'], version: '1.0.0', description: 'Summary statistics' },
  { id: 'load-csv', title: 'Load a CSV file', category: 'Load data', tags: ['csv', 'pandas'], version: '1.0.0' },
  { id: 'histogram', title: 'Histogram', category: 'Explore', tags: ['plot', 'pandas'], version: '2.0.0' }
];

describe('templates', () => {
  const templates = rawTemplates.map(t => ({ description: '', ...t })) as unknown as ITemplate[];
  it('searches, filters by category and by every tag', () => {
    expect(filterTemplates(templates, { query: 'csv' }).map(t => t.id)).toEqual(['load-csv']);
    expect(filterTemplates(templates, { category: 'Explore' }).map(t => t.id)).toEqual(['describe', 'histogram']);
    expect(filterTemplates(templates, { tags: ['pandas'] }).map(t => t.id)).toEqual(['histogram', 'load-csv']);
    expect(filterTemplates(templates, { tags: ['pandas', 'plot'] }).map(t => t.id)).toEqual(['histogram']);
    expect(filterTemplates(templates, { query: 'statistics', category: 'Load data' })).toEqual([]);
  });
  it('lists facets', () => {
    expect(templateFacets(templates)).toEqual({ categories: ['Explore', 'Load data'], tags: ['csv', 'pandas', 'plot', 'summary'] });
  });
});

describe('form schema mapping', () => {
  // The shape datadive_server_ext.templates emits: x-datadive-input hints on each property.
  const schema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      file: { type: 'string', minLength: 1, pattern: '(?i)(\\.csv|\\.tsv)$', 'x-datadive-input': { type: 'file', extensions: ['.csv', '.tsv'] } },
      x: { type: 'string', minLength: 1, title: 'X', 'x-datadive-input': { type: 'column', dataset: 'file' } },
      ys: { type: 'array', items: { type: 'string', minLength: 1 }, 'x-datadive-input': { type: 'column', dataset: 'file', multiple: true } },
      bins: { type: 'integer', default: 10, 'x-datadive-input': { type: 'integer' } }
    },
    required: ['file', 'x']
  };

  it('recognises column and file pickers', () => {
    const pickers = pickersOf(schema, {});
    expect(pickers.file).toEqual({ kind: 'file', extensions: ['.csv', '.tsv'] });
    expect(pickers.x).toEqual({ kind: 'column', dataset: 'file', multiple: false });
    expect(pickers.ys).toEqual({ kind: 'column', dataset: 'file', multiple: true });
    expect(pickers.bins).toBeUndefined();
  });

  it('also reads ui-schema hints and defaults a column dataset to the file picker', () => {
    const s = { type: 'object', properties: { f: { type: 'string' }, c: { type: 'string' } } };
    const pickers = pickersOf(s, { f: { 'ui:widget': 'file' }, c: { 'ui:widget': 'column' } });
    expect(pickers.c).toEqual({ kind: 'column', dataset: 'f', multiple: false });
  });

  it('fills pickers with the project files and the dataset columns', () => {
    const out = formSchema(schema, {}, { files: ['a.csv', 'b.parquet', 'data/c.TSV'], columns: { file: ['age', 'score'] } });
    expect(out.properties.file.enum).toEqual(['a.csv', 'data/c.TSV']);
    expect(out.properties.file.pattern).toBeUndefined();
    expect(out.properties.x.enum).toEqual(['age', 'score']);
    expect(out.properties.ys.items.enum).toEqual(['age', 'score']);
    expect(out.properties.ys.uniqueItems).toBe(true);
    expect(schema.properties.x).not.toHaveProperty('enum'); // input untouched
  });

  it('keeps pickers as text fields without choices and makes (?i) patterns JS-safe', () => {
    const out = formSchema(schema, {}, { files: [], columns: {} });
    expect(out.properties.x.enum).toBeUndefined();
    const re = new RegExp(out.properties.file.pattern, 'u');
    expect(re.test('survey.CSV')).toBe(true);
    expect(re.test('survey.xlsx')).toBe(false);
  });

  it('strips inline flags recursively', () => {
    const s: any = { a: { items: { pattern: '(?i)ab\\.c$' } } };
    stripUnsupportedPatterns(s);
    expect(s.a.items.pattern).toBe('[aA][bB]\\.[cC]$');
  });

  it('makes multi-column pickers checkboxes and hides the submit button elsewhere', () => {
    expect(formUiSchema(schema, {}).ys).toEqual({ 'ui:widget': 'checkboxes' });
    expect(formUiSchema(schema, { x: { 'ui:widget': 'column', 'ui:help': 'h' } }).x).toEqual({ 'ui:help': 'h' });
  });

  it('reads defaults and variable datasets', () => {
    expect(schemaDefaults(schema)).toEqual({ bins: 10 });
    // the values schema the server sends (Template.values_schema)
    const s: any = {
      type: 'object',
      properties: {
        data: { type: 'string', pattern: '^[^\\W\\d]\\w*$', default: 'df', 'x-datadive-input': { type: 'variable' } },
        col: { type: 'string', minLength: 1, 'x-datadive-input': { type: 'column', dataset: 'data' } },
        how: { oneOf: [{ const: 'a', title: 'A!' }, { const: 'b', title: 'b' }], 'x-datadive-input': { type: 'choice' } }
      },
      required: []
    };
    expect(variableDatasets(s, {})).toEqual(['data']);
    expect(s.properties.how.oneOf).toEqual([{ const: 'a', title: 'A!' }, { const: 'b', title: 'b' }]);
    expect(new RegExp(s.properties.data.pattern, 'u').test('df2')).toBe(true);
    expect(new RegExp(s.properties.data.pattern, 'u').test('2df')).toBe(false);
  });
});

describe('form errors', () => {
  const schema = {
    properties: {
      name: { type: 'string', title: 'Name of the data frame', pattern: '^[^\\W\\d]\\w*$', 'x-datadive-input': { type: 'variable' } },
      file: { type: 'string', pattern: 'x', 'x-datadive-input': { type: 'file', extensions: ['.csv', '.tsv'] } },
      other: { type: 'string', pattern: 'y' }
    }
  };
  it('says what a pattern wants in words', () => {
    const out = friendlyErrors(
      [
        { name: 'pattern', property: '.name', message: 'must match pattern "^[^\\W\\d]\\w*$"', stack: '.name must match' },
        { name: 'pattern', property: '.file', message: 'must match pattern "x"', stack: '.file must match' },
        { name: 'pattern', property: '.other', message: 'must match pattern "y"', stack: 's' },
        { name: 'required', property: '.name', message: "must have required property 'name'", stack: 'r' }
      ],
      schema
    );
    expect(out.map(e => e.message)).toEqual([
      'must be a Python name: letters, digits and _, not starting with a digit',
      'must be a file ending in .csv, .tsv',
      'must match pattern "y"',
      "must have required property 'name'"
    ]);
    expect(out[0].stack).toBe('Name of the data frame must be a Python name: letters, digits and _, not starting with a digit');
  });
});

describe('drafts', () => {
  it('saves, loads, lists and discards drafts per project and template', () => {
    let now = 1000;
    const drafts = new DraftStore(new MemoryStore(), 'd:', 30, () => now);
    drafts.save({ template: 't1', version: '1', project: 'p', values: { a: 1 } });
    now = 2000;
    drafts.save({ template: 't2', version: '1', project: 'p', values: { b: 2 } });
    expect(drafts.load('p', 't1')?.values).toEqual({ a: 1 });
    expect(drafts.load('q', 't1')).toBeNull();
    expect(drafts.list().map(d => d.template)).toEqual(['t2', 't1']);
    expect(drafts.latest()?.template).toBe('t2');
    drafts.discard('p', 't2');
    expect(drafts.latest()?.template).toBe('t1');
  });
  it('drops expired and broken drafts', () => {
    let now = 0;
    const store = new MemoryStore();
    const drafts = new DraftStore(store, 'd:', 1, () => now);
    drafts.save({ template: 't', version: '1', project: null, values: {} });
    now = 2 * 86400000;
    expect(drafts.load(null, 't')).toBeNull();
    expect(store.length).toBe(0);
    store.setItem('d:-:x', '{not json');
    expect(drafts.load(null, 'x')).toBeNull();
  });
  it('lists only drafts within the age limit and prunes the rest', () => {
    let now = 0;
    const store = new MemoryStore();
    const drafts = new DraftStore(store, 'd:', 2, () => now);
    drafts.save({ template: 'a', version: '1', project: null, values: {} });
    now = 3 * 86400000;
    drafts.save({ template: 'b', version: '1', project: null, values: {} });
    store.setItem('d:-:broken', '{');
    store.setItem('other', 'kept');
    expect(drafts.list().map(d => d.template)).toEqual(['b']);
    expect(drafts.prune()).toBe(2);
    expect(store.length).toBe(2);
    expect(store.getItem('other')).toBe('kept');
  });
});

describe('generated cells', () => {
  it('hashes like Python hashlib.sha256', async () => {
    for (const text of ['', 'abc', 'print("héllo ✓")\n', 'x'.repeat(1000)]) {
      expect(await sourceHash(text)).toBe('sha256:' + createHash('sha256').update(text, 'utf8').digest('hex'));
    }
    // the same cases tests/test_contract.py checks against the server's source_hash
    for (const { source, hash } of sourceHashes) {
      expect(await sourceHash(source)).toBe(hash);
    }
  });
  it('tells hand-edited cells from generated ones', async () => {
    const source = 'df.describe()';
    const meta = { template: 'describe', version: '1', values: {}, source_hash: 'sha256:' + createHash('sha256').update(source).digest('hex') };
    expect(await isHandEdited(source, meta)).toBe(false);
    expect(await isHandEdited(source + ' # mine', meta)).toBe(true);
    expect(await isHandEdited('anything', { ...meta, source_hash: undefined })).toBe(false);
  });
});

describe('helpers', () => {
  it('formats and checks names', () => {
    expect(notebookFileName(' analysis ')).toBe('analysis.ipynb');
    expect(notebookFileName('a/b.ipynb')).toBe('a-b.ipynb');
    expect(() => notebookFileName('  ')).toThrow('Enter a notebook name.');
    expect(matchesExtensions('X.CSV', ['csv'])).toBe(true);
    expect(matchesExtensions('x.txt', [])).toBe(true);
    expect(percent(50, 200)).toBe(25);
    expect(percent(5, 0)).toBe(0);
    expect(percent(300, 200)).toBe(100);
  });
  it('summarises sync state', () => {
    expect(overallSync({ state: 'synced' }).state).toBe('synced');
    expect(overallSync({ projects: [{ id: 'a', state: 'synced' }, { id: 'b', state: 'conflict' }] }).state).toBe('conflict');
    expect(overallSync({ projects: [{ id: 'a', state: 'syncing' }] }).state).toBe('syncing');
    expect(overallSync({}).state).toBe('unknown');
    expect(overallSync({ state: 'unavailable', message: 'no store' })).toMatchObject({ state: 'unknown', detail: 'no store' });
  });
  it('shows a project that left the list as not synced, with where its changes are kept', () => {
    const raw = {
      state: 'synced',
      projects: [{ project_id: 'p', folder: 'Old', state: 'detached', pending: 0, message: 'kept in /home/x' }]
    };
    const got = overallSync(raw);
    expect(got.state).toBe('synced');
    expect(got.projects[0]).toMatchObject({ state: 'detached', detail: 'kept in /home/x' });
  });
  it('describes each project: pending uploads, conflicts, message, folder', () => {
    const raw = {
      state: 'conflict',
      projects: [
        { project_id: 'a', folder: 'Sleep', state: 'syncing', pending: 2, conflicts: [], message: null },
        { project_id: 'b', folder: 'Survey', state: 'conflict', pending: 0, conflicts: [{ path: 'data.csv' }, 'b.csv'] },
        { project_id: 'c', state: 'offline', pending: 1, message: 'store unreachable' }
      ]
    };
    expect(overallSync(raw).projects).toEqual([
      { id: 'a', folder: 'Sleep', state: 'syncing', detail: '2 files waiting to upload' },
      { id: 'b', folder: 'Survey', state: 'conflict', detail: 'conflicts: data.csv, b.csv' },
      { id: 'c', folder: '', state: 'offline', detail: 'store unreachable; 1 file waiting to upload' }
    ]);
  });
});

import {
  IFormError,
  changedFields,
  distinctValues,
  errorInWords,
  errorSchemaOf,
  fieldFromId,
  fieldOf,
  kernelColumns,
  levelInputs,
  preselectFiles,
  visibleErrors,
  withChoices
} from '../src/formlogic';
import { formSchema } from '../src/formschema';

/** A template's inputs as the server sends them (load-csv and a t-test with a level input). */
const loadCsv = {
  type: 'object',
  required: ['file', 'name'],
  properties: {
    file: { type: 'string', minLength: 1, pattern: '(?i)(\\.csv)$', title: 'CSV file', 'x-datadive-input': { type: 'file', extensions: ['.csv'] } },
    name: { type: 'string', pattern: '^[^\\W\\d]\\w*$', title: 'Data frame name', default: 'df', 'x-datadive-input': { type: 'variable' } },
    rows: { type: 'integer', minimum: 1, title: 'Rows', 'x-datadive-input': { type: 'integer' } }
  }
};
const tTest = {
  type: 'object',
  required: ['data', 'group', 'value', 'first'],
  properties: {
    data: { type: 'string', title: 'Data frame', default: 'df', 'x-datadive-input': { type: 'variable' } },
    group: { type: 'string', minLength: 1, title: 'Group column', 'x-datadive-input': { type: 'column', dataset: 'data' } },
    value: { type: 'string', minLength: 1, title: 'Value column', 'x-datadive-input': { type: 'column', dataset: 'data' } },
    first: { type: 'string', title: 'First group', 'x-datadive-input': { type: 'level', column: 'group', dataset: 'data' } },
    labels: { type: 'array', items: { type: 'string' }, title: 'Groups', 'x-datadive-input': { type: 'level', column: 'group', dataset: 'data', multiple: true } }
  }
};

const required = (field: string, title: string): IFormError => ({
  name: 'required',
  property: `.${field}`,
  message: `must have required property '${title}'`,
  params: { missingProperty: field },
  stack: `must have required property '${title}'`
});

describe('errors in words', () => {
  it('says what to do instead of JSON Schema wording', () => {
    expect(errorInWords(required('file', 'CSV file'), loadCsv)).toBe('Choose a file ending in .csv.');
    expect(errorInWords({ name: 'pattern', property: '.name', stack: '' }, loadCsv)).toBe(
      'Use a Python name: letters, digits and _, not starting with a digit (for example df).'
    );
    expect(errorInWords({ name: 'pattern', property: '.file', stack: '' }, loadCsv)).toBe('Choose a file ending in .csv.');
    expect(errorInWords({ name: 'minimum', property: '.rows', params: { limit: 1 }, stack: '' }, loadCsv)).toBe('Enter 1 or more.');
    expect(errorInWords({ name: 'type', property: '.rows', params: { type: 'integer' }, stack: '' }, loadCsv)).toBe('Enter a whole number.');
    expect(errorInWords({ name: 'minLength', property: '.group', params: { limit: 1 }, stack: '' }, tTest)).toBe('Choose a column.');
    expect(errorInWords(required('value', 'Value column'), tTest)).toBe('Choose a column.');
    expect(errorInWords({ name: 'minItems', property: '.labels', params: { limit: 1 }, stack: '' }, tTest)).toBe('Choose at least one.');
    expect(errorInWords(required('first', 'First group'), tTest)).toBe("Choose one of the column's values.");
    expect(errorInWords(required('data', 'Data frame'), tTest)).toBe('Enter the name of a data frame (for example df).');
    for (const e of [required('file', 'CSV file'), { name: 'pattern', property: '.name', stack: '' }]) {
      expect(errorInWords(e, loadCsv)).not.toMatch(/must|required property/);
    }
  });
  it('finds the field of an error', () => {
    expect(fieldOf(required('file', 'CSV file'))).toBe('file');
    expect(fieldOf({ name: 'enum', property: '.labels.0', stack: '' })).toBe('labels');
    expect(fieldOf({ name: 'minItems', property: "['labels']", stack: '' })).toBe('labels');
  });
});

describe('errors only after touch or Insert', () => {
  const errors = [required('file', 'CSV file'), { name: 'pattern', property: '.name', stack: '' }];
  it('shows nothing on a fresh form', () => {
    expect(visibleErrors(errors, new Set(), false)).toEqual([]);
  });
  it('shows the touched field only', () => {
    expect(visibleErrors(errors, new Set(['name']), false).map(fieldOf)).toEqual(['name']);
  });
  it('shows every error once Insert was pressed', () => {
    expect(visibleErrors(errors, new Set(), true)).toHaveLength(2);
  });
  it('builds the error schema, one message per field', () => {
    expect(errorSchemaOf([...errors, required('file', 'CSV file')], loadCsv)).toEqual({
      file: { __errors: ['Choose a file ending in .csv.'] },
      name: { __errors: ['Use a Python name: letters, digits and _, not starting with a digit (for example df).'] }
    });
  });
  it('knows which fields changed and which field an element belongs to', () => {
    expect(changedFields({ a: 1, b: [1] }, { a: 1, b: [1, 2], c: 'x' })).toEqual(['b', 'c']);
    expect(fieldFromId('dd-form_equal_var', ['equal', 'equal_var'])).toBe('equal_var');
    expect(fieldFromId('dd-form_labels_0', ['labels'])).toBe('labels');
    expect(fieldFromId('other_x', ['x'])).toBe('');
  });
});

describe('preselection', () => {
  it("fills a project's only CSV file", () => {
    expect(preselectFiles(loadCsv, {}, { name: 'df' }, ['survey.csv', 'notes.txt'])).toEqual({ name: 'df', file: 'survey.csv' });
  });
  it('leaves the choice open with two candidates, and never overwrites a value', () => {
    expect(preselectFiles(loadCsv, {}, {}, ['a.csv', 'b.csv'])).toEqual({});
    expect(preselectFiles(loadCsv, {}, { file: 'b.csv' }, ['a.csv'])).toEqual({ file: 'b.csv' });
    expect(preselectFiles(loadCsv, {}, {}, [])).toEqual({});
  });
});

describe('choices from the kernel and the data', () => {
  const frames = [
    { name: 'df', columns: ['participant', 'group', 'score'], rows: 3 },
    { name: 'clean', columns: ['group', 'score'], rows: 2 }
  ];
  it('offers the kernel frames and the chosen frame columns', () => {
    expect(kernelColumns(tTest, {}, { data: 'df' }, frames)).toEqual({ data: ['participant', 'group', 'score'] });
    expect(kernelColumns(tTest, {}, { data: 'missing' }, frames)).toEqual({});
    const base = formSchema(tTest, {}, { files: [], columns: kernelColumns(tTest, {}, { data: 'clean' }, frames) });
    const schema = withChoices(base, tTest, {}, { data: 'clean' }, frames, {});
    expect(schema.properties.data.enum).toEqual(['df', 'clean']);
    expect(schema.properties.group.enum).toEqual(['group', 'score']);
  });
  it('keeps a typed frame name that the kernel does not hold yet', () => {
    const schema = withChoices(formSchema(tTest, {}, { files: [], columns: {} }), tTest, {}, { data: 'later' }, frames, {});
    expect(schema.properties.data.enum).toEqual(['df', 'clean', 'later']);
  });
  it('leaves a data frame input free without a kernel', () => {
    const schema = withChoices(formSchema(tTest, {}, { files: [], columns: {} }), tTest, {}, { data: 'df' }, [], {});
    expect(schema.properties.data.enum).toBeUndefined();
  });
  it('offers the values of the chosen column for level inputs', () => {
    expect(levelInputs(tTest)).toEqual([
      { name: 'first', column: 'group', dataset: 'data', multiple: false },
      { name: 'labels', column: 'group', dataset: 'data', multiple: true }
    ]);
    const schema = withChoices(formSchema(tTest, {}, { files: [], columns: {} }), tTest, {}, {}, [], { first: ['control', 'treated'], labels: ['control', 'treated'] });
    expect(schema.properties.first.enum).toEqual(['control', 'treated']);
    expect(schema.properties.labels.items.enum).toEqual(['control', 'treated']);
    expect(schema.properties.labels.uniqueItems).toBe(true);
  });
  it('takes distinct values of a column from preview rows', () => {
    const cols = [{ name: 'g' }, { name: 'n' }];
    const rows = [['b', 1], ['a10', 2], ['a2', 3], ['b', 4], [null, 5]];
    expect(distinctValues(cols, rows, 'g')).toEqual(['a2', 'a10', 'b']);
    expect(distinctValues(cols, rows, 'missing')).toEqual([]);
  });
});

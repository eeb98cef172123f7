import {
  IColumnSummary,
  IGridPreview,
  cellText,
  columnWidths,
  coverageText,
  distributionBars,
  distributionText,
  formatNumber,
  headerText,
  missingText,
  rangeText,
  roundEstimate,
  rowCountText
} from '../src/previewlogic';

const base: IGridPreview = {
  columns: [
    { name: 'participant', type: 'string' },
    { name: 'age', type: 'integer' }
  ],
  rows: [
    ['p1', 34],
    ['p2', null]
  ]
};

describe('row counts', () => {
  it('says the exact count when the server knows it', () => {
    expect(rowCountText({ ...base, total_rows: 1234 })).toBe('1,234 rows');
    expect(rowCountText({ ...base, total_rows: 1 })).toBe('1 row');
  });
  it('rounds an estimate and says it is one', () => {
    expect(rowCountText({ ...base, total_rows: null, total_rows_estimate: 1483921 })).toBe(
      'about 1,500,000 rows (estimated from the first part of the file)'
    );
    expect(roundEstimate(87)).toBe(87);
    expect(roundEstimate(1234)).toBe(1200);
  });
  it('counts the rows shown when the whole file was shown', () => {
    expect(rowCountText({ ...base, truncated: false })).toBe('2 rows');
    expect(rowCountText({ ...base, truncated: true })).toBe('more rows than shown');
  });
  it('builds the header line', () => {
    expect(headerText({ ...base, total_rows: 4000, truncated: true })).toBe('4,000 rows · 2 columns · first 2 shown');
    expect(headerText({ ...base, total_rows: 2, truncated: false })).toBe('2 rows · 2 columns');
  });
});

const age: IColumnSummary = {
  name: 'age',
  type: 'integer',
  count: 97,
  missing: 3,
  distinct: 40,
  min: 18,
  max: 90,
  mean: 41.2857,
  histogram: { edges: [18, 42, 66, 90], counts: [50, 40, 7] }
};
const group: IColumnSummary = {
  name: 'group',
  type: 'string',
  count: 10,
  missing: 0,
  distinct: 3,
  top: [
    ['a', 6],
    ['b', 3]
  ],
  other: 1
};

describe('column summaries', () => {
  it('says missing values with a share', () => {
    expect(missingText(age)).toBe('3 (3%)');
    expect(missingText({ count: 7, missing: 1 })).toBe('1 (12.5%)');
    expect(missingText(group)).toBe('none');
    expect(missingText({ count: 99999, missing: 1 })).toBe('1 (<0.1%)');
  });
  it('formats range and mean', () => {
    expect(rangeText(age)).toBe('18 – 90 · mean 41.29');
    expect(rangeText(group)).toBe('a (6), b (3)');
    expect(rangeText({ name: 'id', type: 'string', count: 5, missing: 0, distinct: 5, top: [['x', 1]] })).toBe('every value differs');
    expect(rangeText({ ...group, min: '2024-01-01', max: '2024-03-01' })).toBe('2024-01-01 – 2024-03-01');
  });
  it('scales histogram bars to the tallest, with labels', () => {
    const bars = distributionBars(age);
    expect(bars.map(b => b.height)).toEqual([1, 0.8, 0.14]);
    expect(bars[0].label).toBe('18 to 42: 50');
    expect(distributionText(age)).toBe('Histogram of age from 18 to 90');
  });
  it('shows the most frequent values and the rest', () => {
    const bars = distributionBars(group);
    expect(bars.map(b => b.label)).toEqual(['a: 6', 'b: 3', 'other values: 1']);
    expect(bars[1].height).toBeCloseTo(0.5);
    expect(distributionText(group)).toBe('Most frequent values of group: a (6), b (3)');
    expect(distributionBars({ name: 'x', type: 'empty', count: 0, missing: 5 })).toEqual([]);
    const ids: IColumnSummary = { name: 'id', type: 'string', count: 3, missing: 0, distinct: 3, top: [['a', 1], ['b', 1], ['c', 1]] };
    expect(distributionBars(ids)).toEqual([]); // an identifier: no bars
    expect(distributionText(ids)).toBe('Every value of id differs');
  });
  it('says what the summaries cover', () => {
    expect(coverageText({ rows: 4, complete: true, columns: [] })).toBe('Summaries of all 4 rows.');
    expect(coverageText({ rows: 91234, bytes: 4 << 20, complete: false, columns: [] })).toBe(
      'Summaries of the first 91,234 rows (4.0 MB); the file goes on.'
    );
  });
});

describe('grid cells', () => {
  it('shows missing values empty and numbers plainly', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(0.1 + 0.2)).toBe('0.3');
    expect(cellText(7)).toBe('7');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(formatNumber(0.00001234)).toBe('1.23e-5');
    expect(formatNumber(1234567)).toBe('1,234,567');
  });
  it('sizes columns by their longest text within bounds', () => {
    const widths = columnWidths({ ...base, rows: [['a very long participant identifier indeed', 1]] }, 7.5, 64, 200);
    expect(widths[0]).toBe(200);
    expect(widths[1]).toBe(84); // wide enough for its type, "integer", in the header
  });
});

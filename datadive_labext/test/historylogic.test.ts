import {
  IDiffCell,
  IVersion,
  appendVersions,
  authorText,
  cellLabel,
  changedPartsText,
  comparePair,
  compareTitle,
  diffHeadline,
  formatWhen,
  outputPairs,
  projectOfPath,
  sameOutput,
  shownText,
  tabId,
  toggleChoice,
  trashRestoreError,
  versionTitle,
  viewerKind
} from '../src/historylogic';

const v = (id: string, when: string, author: string | null = 'alice', current = false): IVersion => ({
  version_id: id,
  last_modified: when,
  size: 10,
  author,
  is_current: current
});

// newest first, as the service lists them
const list = [v('c', '2026-12-03T10:03:00', 'bob', true), v('b', '2026-12-03T10:02:00'), v('a', '2026-12-03T10:01:00', null)];

describe('versions list', () => {
  it('appends a page without repeating versions already shown', () => {
    expect(appendVersions(list.slice(0, 2), list.slice(1)).map(x => x.version_id)).toEqual(['c', 'b', 'a']);
  });

  it('formats times in local time and leaves unreadable ones as they are', () => {
    expect(formatWhen('2026-12-03T10:01:02')).toBe('2026-12-03 10:01:02');
    expect(formatWhen('yesterday')).toBe('yesterday');
    expect(formatWhen(null)).toBe('');
  });

  it('names who wrote a version, or that Datadive cannot tell', () => {
    expect(authorText('alice')).toBe('alice');
    expect(authorText(null)).toBe('outside Datadive');
  });

  it('titles a version tab with the file, the time, the author and "current"', () => {
    expect(versionTitle('data/sleep.ipynb', list[0])).toBe('sleep.ipynb @ 2026-12-03 10:03:00 (bob, current)');
    expect(versionTitle('sleep.ipynb', list[2])).toBe('sleep.ipynb @ 2026-12-03 10:01:00 (outside Datadive)');
    expect(compareTitle('a/sleep.ipynb', list[2], list[0])).toBe('sleep.ipynb: 2026-12-03 10:01:00 → current');
    expect(compareTitle('sleep.ipynb', list[2], list[1])).toBe('sleep.ipynb: 2026-12-03 10:01:00 → 2026-12-03 10:02:00');
  });

  it('shows notebooks rendered, images as images, text as text, SVG as text', () => {
    expect(viewerKind('x/a.IPYNB')).toBe('notebook');
    expect(viewerKind('plot.png')).toBe('image');
    expect(viewerKind('data/survey.csv')).toBe('text');
    expect(viewerKind('logo.svg')).toBe('text');
    expect(viewerKind('Makefile')).toBe('text');
    expect(viewerKind('data.parquet')).toBe('other');
  });

  it('cuts very long text with a note', () => {
    expect(shownText('abcdef', 3)).toBe('abc\n… (3 more characters not shown)');
    expect(shownText('abc', 3)).toBe('abc');
  });
});

describe('choosing two versions to compare', () => {
  it('orders the pair older first whatever the order of the ticks', () => {
    expect(comparePair(['c', 'a'], list)!.map(x => x.version_id)).toEqual(['a', 'c']);
    expect(comparePair(['a', 'b'], list)!.map(x => x.version_id)).toEqual(['a', 'b']);
  });

  it('needs exactly two known versions', () => {
    expect(comparePair(['a'], list)).toBeNull();
    expect(comparePair(['a', 'zz'], list)).toBeNull();
    expect(comparePair(['a', 'a'], list)).toBeNull();
  });

  it('keeps at most two ticks: a third replaces the oldest tick', () => {
    expect(toggleChoice([], 'a')).toEqual(['a']);
    expect(toggleChoice(['a', 'b'], 'c')).toEqual(['b', 'c']);
    expect(toggleChoice(['a', 'b'], 'a')).toEqual(['b']);
  });
});

describe('a comparison', () => {
  const cell = (status: IDiffCell['status'], parts: string[] = [], cell_type = 'code'): IDiffCell => ({
    status,
    cell_type,
    old_index: 1,
    new_index: status === 'removed' ? null : 2,
    parts
  });

  it('sums the cells up', () => {
    expect(diffHeadline({ changed: 2, added: 1, removed: 0, unchanged: 5 })).toBe('2 changed, 1 added, 5 unchanged');
    expect(diffHeadline({ changed: 0, added: 0, removed: 0, unchanged: 3 })).toBe('No cell changed, 3 unchanged');
  });

  it('says what changed in a cell, without the execution count next to real changes', () => {
    expect(changedPartsText(cell('changed', ['execution_count', 'outputs', 'source']))).toBe('outputs and code changed');
    expect(changedPartsText(cell('changed', ['execution_count']))).toBe('execution count changed');
    expect(changedPartsText(cell('added'))).toBe('added');
  });

  it('labels cells by their place in the newer version, else the older', () => {
    expect(cellLabel(cell('changed'))).toBe('Cell 3');
    expect(cellLabel(cell('removed', [], 'markdown'))).toBe('Cell 2 (markdown)');
  });

  it('pairs outputs before and after side by side', () => {
    const out = (text: string) => ({ type: 'stream', text, image: null });
    expect(outputPairs({ before: [out('1')], after: [out('1'), out('2')] })).toEqual([
      [out('1'), out('1')],
      [null, out('2')]
    ]);
    expect(sameOutput(out('1'), out('1'))).toBe(true);
    expect(sameOutput(out('1'), null)).toBe(false);
  });
});

describe('files of projects', () => {
  const projects = [
    { id: 'p1', name: 'Sleep' },
    { id: 'p2', name: 'Sleep/deep' }
  ];
  it('finds the project of a file-browser path (the longest folder wins)', () => {
    expect(projectOfPath('Sleep/data/a.csv', projects, p => p.name)).toEqual({ project: projects[0], path: 'data/a.csv' });
    expect(projectOfPath('/Sleep/deep/a.ipynb', projects, p => p.name)).toEqual({ project: projects[1], path: 'a.ipynb' });
    expect(projectOfPath('Sleepy/a.csv', projects, p => p.name)).toBeNull();
    expect(projectOfPath('Sleep', projects, p => p.name)).toBeNull();
  });

  it('explains a refused restore from the trash (409: the path exists again)', () => {
    expect(trashRestoreError('a.csv', 409, "'a.csv' exists again; rename or delete it")).toBe('"a.csv" was not restored: \'a.csv\' exists again; rename or delete it');
    expect(trashRestoreError('a.csv', 502, 'store down')).toBe('Could not restore "a.csv": store down');
  });

  it('makes distinct plain tab ids per file and version', () => {
    const a = tabId('version', 'p1', 'a b/ü.ipynb', 'v1');
    expect(a).toMatch(/^[a-z0-9-]+$/);
    expect(a).not.toBe(tabId('version', 'p1', 'a b/ü.ipynb', 'v2'));
  });
});

// The assistant tab's pure logic: pickers by codebook level, the request, the answer in words.
import {
  ICodebook,
  applyEdits,
  assistantMetaOf,
  buildAssistRequest,
  checkRows,
  codebookSaveError,
  columnLabels,
  columnMissingText,
  columnsForRole,
  dataPathOf,
  decidingLines,
  describeEdits,
  emptyQuestion,
  formatAlternative,
  formatDof,
  formatEffectSize,
  formatP,
  labelsText,
  levelOf,
  missingPicks,
  postHocTable,
  recheckSummary,
  resultLine,
  rolesFor,
  whyLines
} from '../src/assistantlogic';

const codebook: ICodebook = {
  columns: [
    { name: 'participant', level: 'identifier', personal_data: true },
    { name: 'email', level: 'text', personal_data: true },
    { name: 'group', level: 'nominal', labels: { '1': 'control', '2': 'treatment' } },
    { name: 'satisfaction', level: 'ordinal', labels: [{ value: 1, label: 'Low' }, { value: 2, label: 'High' }] },
    { name: 'score', level: 'scale', question: 'Total score' },
    { name: 'age', level: 'scale' },
    { name: 'ip', level: 'nominal', personal_data: true },
    { name: 'comment', level: 'text' }
  ]
};

const names = (cols: { name: string }[]) => cols.map(c => c.name);

describe('pickers use the codebook levels', () => {
  it('a numeric outcome offers only scale columns; groups only nominal and ordinal', () => {
    const [outcome, group] = rolesFor('compare');
    expect(names(columnsForRole(codebook, outcome))).toEqual(['score', 'age']);
    // personal data (the IP address) is never offered as a variable
    expect(names(columnsForRole(codebook, group))).toEqual(['group', 'satisfaction']);
  });

  it('correlation takes scale and ordinal; association only categorical', () => {
    expect(names(columnsForRole(codebook, rolesFor('relationship')[0]))).toEqual(['satisfaction', 'score', 'age']);
    expect(names(columnsForRole(codebook, rolesFor('association')[1]))).toEqual(['group', 'satisfaction']);
  });

  it('the participant of a long layout is an identifier, even a personal one', () => {
    const subject = rolesFor('repeated', 'long').find(r => r.role === 'subject')!;
    expect(names(columnsForRole(codebook, subject))).toEqual(['participant', 'group', 'ip']);
    expect(rolesFor('repeated', 'wide')[0].multiple).toBe(true);
  });

  it('levels spelled otherwise are understood; unknown ones are free text (never offered)', () => {
    expect(levelOf({ name: 'a', level: 'Interval' })).toBe('scale');
    expect(levelOf({ name: 'a', level: 'binary' })).toBe('nominal');
    expect(levelOf({ name: 'a', level: 'whatever' })).toBe('text');
    expect(columnsForRole(null, rolesFor('compare')[0])).toEqual([]);
  });
});

describe('what is missing before asking', () => {
  it('names each missing pick, and is empty when ready', () => {
    const q = emptyQuestion('compare');
    expect(missingPicks(q, codebook)).toEqual(['Choose a dataset.', 'Choose the outcome.', 'Choose the groups.']);
    q.dataset = 'survey.csv';
    q.picks = { outcome: 'score', group: 'group' };
    expect(missingPicks(q, codebook)).toEqual([]);
  });

  it('one group value only, a variable used twice, a vanished column, a non-number value', () => {
    const q = { ...emptyQuestion('compare', 'd.csv'), picks: { outcome: 'score', group: 'group', factor2: 'group' } };
    expect(missingPicks(q, codebook)).toContain('Each variable can be used once only.');
    q.picks = { outcome: 'score', group: 'group' };
    q.groupValues = ['control'];
    expect(missingPicks(q, codebook)).toEqual(['Choose at least two groups to compare (or none for all).']);
    q.picks = { outcome: 'gone', group: 'group' };
    q.groupValues = [];
    expect(missingPicks(q, codebook)[0]).toMatch(/"gone" is not in this dataset/);
    const one = { ...emptyQuestion('one_sample', 'd.csv'), picks: { outcome: 'score' }, mu: 'ten' };
    expect(missingPicks(one, codebook)).toEqual(['Enter the value to compare against (a number).']);
    const wide = { ...emptyQuestion('repeated', 'd.csv'), paired: ['score'] };
    expect(missingPicks(wide, codebook)).toEqual(['Choose at least two measurement columns.']);
  });
});

describe('the request to datadive/api/assist', () => {
  it('compare groups: path in the project folder, the chosen group values as they are', () => {
    const q = { ...emptyQuestion('compare', 'data/survey.csv'), picks: { outcome: 'score', group: 'arm' }, groupValues: ['yes', 2, "it's"] };
    expect(buildAssistRequest(q, 'My study/')).toEqual({
      path: 'My study/data/survey.csv',
      outcome: 'score',
      group: 'arm',
      levels: ['yes', 2, "it's"]
    });
  });

  it('a second factor makes groups, a covariate is passed on; no values = no filter', () => {
    const q = { ...emptyQuestion('compare', 's.csv'), picks: { outcome: 'score', group: 'group', factor2: 'sex', covariate: 'age' } };
    expect(buildAssistRequest(q)).toEqual({ path: 's.csv', outcome: 'score', groups: ['group', 'sex'], covariate: 'age' });
  });

  it('repeated measures: two columns are paired, more are within columns, long layout', () => {
    const q = { ...emptyQuestion('repeated', 's.csv'), paired: ['pre', 'post'] };
    expect(buildAssistRequest(q)).toEqual({ path: 's.csv', outcome: 'pre', paired_with: 'post' });
    q.paired = ['t1', 't2', 't3'];
    expect(buildAssistRequest(q)).toEqual({ path: 's.csv', within_columns: ['t1', 't2', 't3'] });
    const long = { ...emptyQuestion('repeated', 's.csv'), layout: 'long' as const, picks: { outcome: 'rt', within: 'time', subject: 'id' } };
    expect(buildAssistRequest(long)).toEqual({ path: 's.csv', outcome: 'rt', within: 'time', subject: 'id' });
  });

  it('relationship, association and one sample', () => {
    expect(buildAssistRequest({ ...emptyQuestion('relationship', 's.csv'), picks: { x: 'age', y: 'score' } })).toEqual({ path: 's.csv', x: 'age', y: 'score' });
    expect(buildAssistRequest({ ...emptyQuestion('association', 's.csv'), picks: { x: 'smoker', y: 'sex' } }, 'S', 'S/nb.ipynb')).toEqual({
      path: 'S/s.csv',
      notebook: 'S/nb.ipynb',
      x: 'smoker',
      y: 'sex'
    });
    expect(buildAssistRequest({ ...emptyQuestion('one_sample', 's.csv'), picks: { outcome: 'score' }, mu: ' 4.5' })).toEqual({ path: 's.csv', outcome: 'score', mu: 4.5 });
  });
});

describe('the answer in words', () => {
  it('p values as APA: never 0, no leading zero', () => {
    expect(formatP(0)).toBe('< .001');
    expect(formatP(5e-8)).toBe('< .001');
    expect(formatP(0.0234)).toBe('.023');
    expect(formatP(0.9999)).toBe('1.000');
    expect(formatP(null)).toBe('—');
    expect(formatP(NaN)).toBe('—');
  });

  it('checks keep their numbers and say whether they passed', () => {
    const rows = checkRows([
      { name: 'Shapiro-Wilk (control)', statistic: 0.9712, p: 0.41, passed: true, detail: 'W per group' },
      { name: "Levene (centre: median)", statistic: 5.2, p: 0.0004, passed: false },
      { name: 'n per group', statistic: null, p: null, passed: null }
    ]);
    expect(rows.map(r => [r.statistic, r.p, r.verdict])).toEqual([
      ['0.971', '.410', 'passed'],
      ['5.200', '< .001', 'failed'],
      ['—', '—', 'info']
    ]);
  });

  it('effect sizes with their confidence interval, whatever shape the server sends', () => {
    expect(formatEffectSize({ name: "Hedges' g", value: 0.8412, ci: [0.12, 1.553] })).toBe("Hedges' g = 0.84, 95% CI [0.12, 1.55]");
    expect(formatEffectSize({ name: 'eta²', value: 0.2, ci_low: 0.05, ci_high: 0.4, ci_level: 0.9 })).toBe('eta² = 0.20, 90% CI [0.05, 0.40]');
    expect(formatEffectSize({ name: "Cohen's d", value: -0.8, ci: [-1.3, -0.3], confidence: 0.95 })).toBe("Cohen's d = -0.80, 95% CI [-1.30, -0.30]");
    expect(formatEffectSize(0.5)).toBe('effect size = 0.50');
    expect(formatEffectSize(null)).toBe('');
  });

  it('the robust alternative, the post-hoc table, degrees of freedom, the rule', () => {
    expect(formatAlternative('mann_whitney')).toBe('Mann-Whitney U test');
    expect(formatAlternative({ test: 'welch_anova', statistic: 4.1, p: 0.03 })).toBe("Welch's ANOVA: statistic = 4.10, p = .030");
    expect(formatAlternative({ test: 'mann_whitney', name: 'Mann-Whitney U', apa: 'U = 120.0, p = .004' })).toBe('Mann-Whitney U: U = 120.0, p = .004');
    expect(formatAlternative({ test: 'fisher_exact', statistic: null, note: 'not run on this data (3x2)' })).toBe("Fisher's exact test (not run on this data (3x2))");
    const ph = postHocTable({ test: 'pairwise_tukey', correction: 'Tukey HSD', comparisons: [{ A: 'a', B: 'b', diff: 1.23456, 'p-adj': 0.00001 }] });
    expect(ph).toEqual({ title: 'pairwise_tukey (Tukey HSD correction)', columns: ['A', 'B', 'diff', 'p-adj'], rows: [['a', 'b', '1.235', '< .001']] });
    expect(postHocTable(null)).toBeNull();
    expect(formatDof([2, 27])).toBe('2, 27');
    expect(formatDof(17.4567)).toBe('17.46');
    expect(whyLines('Normal in both groups.\nVariances differ.')).toEqual(['Normal in both groups.', 'Variances differ.']);
    expect(
      decidingLines("Question: Do groups differ? Normality of 'score': W = 0.97, p = .41. Rule: normal → t-test.", [{ name: "Normality of 'score'" }])
    ).toEqual(['Question: Do groups differ?', 'Rule: normal → t-test.']);
    expect(decidingLines('Rule: normal → t-test. Robust alternative: Welch.', [], true)).toEqual(['Rule: normal → t-test.']);
    expect(whyLines("Question: compare groups. Normality of 'score': W = 0.97, p = .41: normal. Rule: normal → t-test.")).toEqual([
      'Question: compare groups.',
      "Normality of 'score': W = 0.97, p = .41: normal.",
      'Rule: normal → t-test.'
    ]);
    expect(resultLine({ test: 'welch_t', statistic: 2.5, p: 0.02, dof: 17.2 })).toBe("Welch's t-test: statistic (df 17.20) = 2.50, p = .020");
  });
});

describe('inserted cells and recheck', () => {
  it('finds the assistant record and its data file in cell metadata', () => {
    const meta = { datadive: { assistant: { test: 'welch_t', inputs: { outcome: 'score' }, data: { path: 'survey.csv', sha256: 'ab' } } } };
    expect(assistantMetaOf(meta)).toEqual(meta.datadive.assistant);
    // the record keeps the contents path (from the server's root)
    expect(dataPathOf(assistantMetaOf(meta)!)).toBe('survey.csv');
    expect(dataPathOf({ data: { path: 'My study/./data/../survey.csv' } })).toBe('My study/survey.csv');
    expect(dataPathOf({ data: { path: '../../etc/x.csv' } })).toBe('');
    expect(dataPathOf({ data: { path: '/home/u/x.csv' } })).toBe('');
    expect(dataPathOf({})).toBe('');
    expect(assistantMetaOf({ datadive: { template: 'x' } })).toBeNull();
    expect(assistantMetaOf(undefined)).toBeNull();
  });

  it('says whether the recommendation changed', () => {
    expect(recheckSummary({ changed: true, answer: { test: 'mann_whitney' } }, 'welch_t')).toEqual({
      changed: true,
      text: "The recommendation changed from Welch's t-test to Mann-Whitney U test."
    });
    expect(recheckSummary({ changed: false, answer: { test: 'welch_t' } }).text).toBe("The recommendation is unchanged: Welch's t-test.");
    expect(recheckSummary({ changed: false, message: 'Same data.' }).text).toBe('Same data.');
  });
});

describe('codebook edits', () => {
  it('applies edits without touching the original, and says what changed', () => {
    const edits = { age: { level: 'ordinal' }, group: { personal_data: true }, score: { level: 'scale' } };
    const edited = applyEdits(codebook, edits);
    expect(edited.columns.find(c => c.name === 'age')!.level).toBe('ordinal');
    expect(codebook.columns.find(c => c.name === 'age')!.level).toBe('scale');
    expect(describeEdits(codebook, edits)).toEqual(['group: marked as personal data', 'age: level scale → ordinal']);
  });

  it('labels and conflicts in words', () => {
    expect(labelsText({ '1': 'control', '2': 'treatment' })).toBe('1 = control; 2 = treatment');
    expect(labelsText([{ value: 1, label: 'Low' }, { value: 2, label: 'High' }], 1)).toBe('1 = Low; … (1 more)');
    expect(codebookSaveError(409, 'stale')).toMatch(/changed by someone else.*reload/);
    expect(codebookSaveError(400, 'bad level')).toBe('Could not save the codebook: bad level');
  });
});

describe('codebook columns as the survey importers write them', () => {
  it('value labels under "values", missing codes and ranges', () => {
    const col = { name: 'q1', level: 'ordinal', values: [{ value: 1, label: 'Disagree' }, { value: 2, label: 'Agree' }], missing: [-99], missing_ranges: [[-9, -1]] };
    expect(columnLabels(col)).toEqual([['1', 'Disagree'], ['2', 'Agree']]);
    expect(columnMissingText(col)).toBe('-99, -9 to -1');
    expect(columnMissingText({ name: 'x', level: 'scale' })).toBe('');
  });
});

// The Assistant tab's model with a fake client: the requests it makes and how it handles answers.
const notes: { kind: string; message: string }[] = [];
jest.mock('@jupyterlab/apputils', () => {
  const note = (kind: string) => (message: string) => {
    notes.push({ kind, message });
    return kind;
  };
  return { Notification: { error: note('error'), warning: note('warning'), success: note('success'), info: note('info') } };
});
jest.mock('@jupyterlab/services', () => ({ ServerConnection: {} }));
jest.mock('@jupyterlab/coreutils', () => ({ URLExt: { join: (...p: string[]) => p.join('/') } }));

import { DatadiveError } from '../src/api';
import { routeClient } from './fakeclient';
import { DraftStore, MemoryStore } from '../src/drafts';
import { PanelModel } from '../src/model';

const codebook = {
  path: 'My study/survey.csv',
  stored: false,
  hash: null,
  codebook: {
    version: 1,
    columns: [
      { name: 'participant', level: 'identifier', personal_data: true },
      { name: 'group', level: 'nominal' },
      { name: 'score', level: 'scale' }
    ]
  }
};

const answer = {
  test: 't_test_ind',
  test_name: "Student's t-test",
  statistic: -3.17,
  p: 0.002,
  apa: 't(58) = -3.17, p = .002',
  checks: [],
  cell: { source: 'print(1)\n', metadata: { datadive: { assistant: { test: 't_test_ind', inputs: {}, data: { path: 'My study/survey.csv' } } } } }
};

function setup(responses: (route: string, init: any, query: any) => any) {
  const requests: { route: string; init: any; query: any }[] = [];
  const client = routeClient((route, init, query) => {
    requests.push({ route, init, query });
    return responses(route, init, query);
  });
  const model = new PanelModel(client as any, new DraftStore(new MemoryStore()), 'ana');
  model.project = { id: 'p1', name: 'My study', role: 'owner' } as any;
  model.files = [
    { path: 'survey.csv', name: 'survey.csv', type: 'file' },
    { path: 'notes.md', name: 'notes.md', type: 'file' }
  ];
  return { model, a: model.assistant, requests };
}

beforeEach(() => (notes.length = 0));

it('reads the codebook and the group values of the chosen file, from the server root', async () => {
  const { a, requests } = setup(route =>
    route.startsWith('api/codebook/') ? codebook : { column: 'group', values: ['control', 'treatment'], counts: [30, 30] }
  );
  expect(a.datasets()).toEqual(['survey.csv']);
  await a.setDataset('survey.csv');
  expect(requests[0].route).toBe('api/codebook/My%20study/survey.csv');
  expect(a.codebook).toEqual(codebook);
  a.setPick('group', 'group');
  await new Promise(r => setTimeout(r, 0));
  expect(requests[1]).toMatchObject({ route: 'api/values/My%20study/survey.csv', query: { column: 'group' } });
  expect(a.values.group.values).toEqual(['control', 'treatment']);
});

it('asks with the request built from the picks and keeps the answer; Insert uses the insertion path', async () => {
  const { a, requests } = setup(route => (route === 'api/assist' ? answer : codebook));
  await a.setDataset('survey.csv');
  a.setPick('outcome', 'score');
  a.setPick('group', 'group');
  a.currentNotebook = () => 'My study/analysis.ipynb';
  await a.ask();
  const ask = requests.find(r => r.route === 'api/assist')!;
  expect(ask.init.method).toBe('POST');
  expect(JSON.parse(ask.init.body)).toEqual({ path: 'My study/survey.csv', notebook: 'My study/analysis.ipynb', outcome: 'score', group: 'group' });
  expect(a.answer).toEqual(answer);
  expect(a.askMs).not.toBeNull();
  const inserted: any[] = [];
  a.insertCell = cell => inserted.push(cell);
  expect(a.insert()).toBe(true);
  expect(inserted).toEqual([{ source: 'print(1)\n', metadata: answer.cell.metadata, cell_type: 'code' }]);
});

it("shows the server's message when asking fails, and keeps no stale answer", async () => {
  const { a } = setup(route => {
    if (route === 'api/assist') {
      throw new DatadiveError("'Yes' is not a value of 'smoker'; did you mean 'yes'?", 400);
    }
    return codebook;
  });
  await a.setDataset('survey.csv');
  a.setPick('outcome', 'score');
  a.setPick('group', 'group');
  await a.ask();
  expect(a.error).toBe("'Yes' is not a value of 'smoker'; did you mean 'yes'?");
  expect(a.answer).toBeNull();
  expect(a.asking).toBe(false);
});

it('saves the codebook with the hash it read; a 409 says reload', async () => {
  let put: any = null;
  let conflict = false;
  const { a } = setup((route, init) => {
    if (init?.method === 'PUT') {
      if (conflict) {
        throw new DatadiveError('changed since you read it', 409);
      }
      put = JSON.parse(init.body);
      return { ...codebook, stored: true, hash: 'abc', codebook: put.codebook };
    }
    return codebook;
  });
  await a.setDataset('survey.csv');
  a.setEdit('score', { level: 'ordinal' });
  expect(a.pendingChanges()).toEqual(['score: level scale → ordinal']);
  expect(await a.saveCodebook()).toBe(true);
  expect(put.hash).toBeNull();
  expect(put.codebook.columns[2]).toEqual({ name: 'score', level: 'ordinal' });
  expect(a.codebook!.hash).toBe('abc');
  expect(a.pendingChanges()).toEqual([]);
  conflict = true;
  a.setEdit('group', { personal_data: true });
  expect(await a.saveCodebook()).toBe(false);
  expect(a.conflict).toBe(true);
  expect(a.saveError).toMatch(/changed by someone else.*reload/);
  expect(a.pendingChanges()).toEqual(['group: marked as personal data']); // the edit is not lost yet
});

it('recheck sends the recorded path and says whether the recommendation changed', async () => {
  const { a, requests } = setup(() => ({ changed: true, message: 'Now Mann-Whitney.', answer: { ...answer, test: 'mann_whitney' } }));
  const meta = answer.cell.metadata.datadive.assistant;
  const shown = await a.recheck(meta, { cellId: 'c1', notebookPath: 'My study/analysis.ipynb' });
  expect(JSON.parse(requests[0].init.body)).toEqual({ path: 'My study/survey.csv', metadata: meta, notebook: 'My study/analysis.ipynb' });
  expect(shown).toMatchObject({ changed: true, text: 'Now Mann-Whitney.', cellId: 'c1' });
  expect(notes).toEqual([{ kind: 'warning', message: 'Now Mann-Whitney.' }]);
});

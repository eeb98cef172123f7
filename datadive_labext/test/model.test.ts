// The panel model's logic with a fake client (no JupyterLab runtime: notifications are recorded).
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
import { DraftStore, MemoryStore } from '../src/drafts';
import type { IFileEntry, IProject, ITemplate } from '../src/types';
import { DEFAULT_SETTINGS, PanelModel, resolveSettings } from '../src/model';

const DAY = 86400000;

const live: IProject[] = [
  { id: 'p1', name: 'Sleep', role: 'owner', created_by: 'ana' },
  { id: 'p2', name: 'Shared', role: 'viewer', created_by: 'bo' }
];

const groupSummary: ITemplate = {
  id: 'group-summary',
  version: '1.0.0',
  title: 'Group summary',
  description: '',
  category: 'Explore',
  tags: [],
  inputs: {
    type: 'object',
    properties: {
      data: { type: 'string', default: 'df', 'x-datadive-input': { type: 'variable' } },
      group: { type: 'string', 'x-datadive-input': { type: 'column', dataset: 'data' } }
    }
  },
  ui_schema: {}
} as unknown as ITemplate;

const loadCsv: ITemplate = {
  id: 'load-csv',
  version: '1.0.0',
  title: 'Load a CSV file',
  description: '',
  category: 'Load data',
  tags: [],
  inputs: {
    type: 'object',
    properties: {
      file: { type: 'string', 'x-datadive-input': { type: 'file', extensions: ['.csv'] } },
      x: { type: 'string', 'x-datadive-input': { type: 'column', dataset: 'file' } },
      name: { type: 'string', default: 'df' }
    }
  },
  ui_schema: {}
} as unknown as ITemplate;

/** A client answering from fixed data; `fail` makes one method reject with a server error. */
function fakeClient(fail: Record<string, DatadiveError> = {}) {
  const calls: string[] = [];
  const answer = <T>(name: string, value: T) => {
    calls.push(name);
    return fail[name] ? Promise.reject(fail[name]) : Promise.resolve(value);
  };
  const links: any[] = [];
  const files: IFileEntry[] = [
    { path: 'survey.csv', name: 'survey.csv', type: 'file', size: 10 },
    { path: '.datadive-checkpoints/x', name: 'x', type: 'file' },
    { path: 'analysis.ipynb', name: 'analysis.ipynb', type: 'notebook' }
  ];
  const client = {
    calls,
    listProjects: (opts: { deleted?: boolean } = {}) =>
      opts.deleted
        ? answer('listDeleted', [{ id: 'p9', name: 'Old', role: 'owner', deleted: true }])
        : answer('listProjects', live),
    listNotebooks: () => answer('listNotebooks', [{ path: 'analysis.ipynb', name: 'analysis.ipynb', type: 'notebook' }]),
    listFiles: () => answer('listFiles', files),
    listLinks: () => answer('listLinks', links),
    listMembers: () => answer('listMembers', [{ kind: 'user', name: 'ana', role: 'owner' }]),
    listAudit: (_id: string, before?: number) =>
      answer(
        'listAudit',
        before === undefined
          ? { events: [{ id: 3, at: '2026-12-03T09:00:00Z', actor: 'ana', action: 'uploaded', target: 'survey.csv' }], next: 3 }
          : { events: [{ id: 1, at: '2026-12-03T08:00:00Z', actor: 'ana', action: 'shared', target: 'bo' }], next: null }
      ),
    createLink: (_id: string, path: string, hideCode: boolean) => {
      const link = { id: `l${links.length + 1}`, path, kind: path.endsWith('.ipynb') ? 'notebook' : 'file', hide_code: hideCode, created_by: 'ana', created_at: '2026-12-03T08:00:00Z', expires_at: null, expired: false };
      links.push(link);
      return answer('createLink', { ...link, url: `/services/datadive/public/tok${links.length}` });
    },
    deleteLink: (_id: string, linkId: string) => {
      links.splice(links.findIndex(l => l.id === linkId), 1);
      return answer('deleteLink', undefined);
    },
    preview: (_id: string, path: string) =>
      answer('preview', { columns: path === 'survey.csv' ? [{ name: 'participant', type: 'str' }, { name: 'age', type: 'int' }] : [], rows: [] }),
    getTemplate: (id: string) => answer('getTemplate', id === 'load-csv' ? loadCsv : groupSummary),
    listTemplates: () => answer('listTemplates', [loadCsv, groupSummary])
  };
  return client;
}

function makeModel(client: any, now: () => number = () => Date.now()) {
  const store = new MemoryStore();
  const drafts = new DraftStore(store, 'datadive:draft:', 30, now);
  return { model: new PanelModel(client, drafts, 'ana'), store, drafts };
}

const flush = () => new Promise(r => setTimeout(r, 0));

beforeEach(() => {
  notes.length = 0;
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('settings', () => {
  it('resolves the registry values over the defaults, ignoring unknown and mistyped keys', () => {
    expect(resolveSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    const s = resolveSettings({ draftMaxAgeDays: 3, sortProjects: 'role', previewRows: '9' as any, bogus: 1 } as any);
    expect(s.draftMaxAgeDays).toBe(3);
    expect(s.sortProjects).toBe('role');
    expect(s.previewRows).toBe(DEFAULT_SETTINGS.previewRows);
    expect(s).not.toHaveProperty('bogus');
  });

  it('wires draftMaxAgeDays into the draft store and prunes older drafts', () => {
    let now = 100 * DAY;
    const { model, drafts, store } = makeModel(fakeClient(), () => now);
    expect(drafts.maxAgeDays).toBe(30);
    drafts.save({ template: 'old', version: '1', project: 'p1', values: { a: 1 } });
    now += 5 * DAY;
    drafts.save({ template: 'new', version: '1', project: 'p1', values: { b: 2 } });
    now += 1 * DAY;
    // the old draft is 6 days old, the new one 1 day: both within 30 days
    expect(drafts.list().map(d => d.template)).toEqual(['new', 'old']);

    const before = model.applySettings({ draftMaxAgeDays: 3 });
    expect(before.draftMaxAgeDays).toBe(30);
    expect(model.settings.draftMaxAgeDays).toBe(3);
    expect(drafts.maxAgeDays).toBe(3);
    expect(store.getItem('datadive:draft:p1:old')).toBeNull(); // pruned at once
    expect(drafts.load('p1', 'new')?.values).toEqual({ b: 2 });
    now += 3 * DAY; // the new draft is now 4 days old
    expect(drafts.list()).toEqual([]);
    expect(drafts.load('p1', 'new')).toBeNull();
  });

  it('keeps drafts longer when the setting allows it', () => {
    let now = 0;
    const { model, drafts } = makeModel(fakeClient(), () => now);
    model.applySettings({ draftMaxAgeDays: 90 });
    drafts.save({ template: 't', version: '1', project: null, values: { v: 1 } });
    now = 60 * DAY;
    expect(drafts.load(null, 't')?.values).toEqual({ v: 1 });
    model.applySettings({}); // back to the default 30 days
    expect(drafts.load(null, 't')).toBeNull();
  });

  it('refuses a nonsensical age', () => {
    const drafts = new DraftStore(new MemoryStore());
    drafts.maxAgeDays = 0;
    expect(drafts.maxAgeDays).toBe(30);
    drafts.maxAgeDays = 7;
    expect(drafts.maxAgeDays).toBe(7);
  });
});

describe('template gallery', () => {
  it('says so when the server answered with its fallback list', async () => {
    const client: any = fakeClient();
    const { model } = makeModel(client);
    await model.loadTemplates();
    expect(model.templatesOffline).toBe(false);
    client.listTemplates = () => Promise.resolve(Object.assign([], { offline: true }));
    await model.loadTemplates();
    expect(model.templatesOffline).toBe(true);
  });
});

describe('projects', () => {
  it('loads live and deleted projects', async () => {
    const { model } = makeModel(fakeClient());
    await model.loadProjects();
    expect(model.projects.map(p => p.id)).toEqual(['p1', 'p2']);
    expect(model.deleted.map(p => p.id)).toEqual(['p9']);
    expect(model.error).toBe('');
    expect(model.busy).toBe(false);
  });

  it('shows a failing "recently deleted" list with its message, and still the live list', async () => {
    const { model } = makeModel(fakeClient({ listDeleted: new DatadiveError('The service is read-only right now', 503) }));
    await model.loadProjects();
    expect(model.projects).toHaveLength(2);
    expect(model.error).toBe('Could not list recently deleted projects: The service is read-only right now');
    expect(notes).toEqual([]); // in the banner, not in a toast that vanishes
  });

  it('shows a failing project list with the server message', async () => {
    const { model } = makeModel(fakeClient({ listProjects: new DatadiveError('Hub service unreachable', 502) }));
    await model.loadProjects();
    expect(model.error).toBe('Could not list projects: Hub service unreachable');
    expect(model.projectsLoaded).toBe(false);
    expect(notes).toEqual([]); // in the banner, not in a toast that vanishes
  });

  it('keeps an error in the banner until it is dismissed, also when later actions succeed', async () => {
    let failing = true;
    const client: any = fakeClient();
    const listProjects = client.listProjects;
    client.listProjects = (opts: any = {}) => (failing && !opts.deleted ? Promise.reject(new DatadiveError('Hub service unreachable', 502)) : listProjects(opts));
    const { model } = makeModel(client);
    await model.loadProjects();
    failing = false;
    await model.loadProjects();
    expect(model.projects).toHaveLength(2);
    expect(model.error).toBe('Could not list projects: Hub service unreachable');
    model.setError('');
    expect(model.error).toBe('');
  });

  it('publishes a file as a public link, lists it without its URL, and revokes it', async () => {
    const client: any = fakeClient();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p1');
    expect(model.links).toEqual([]);
    const link = await model.publish('analysis.ipynb', true);
    expect(link?.url).toBe('/services/datadive/public/tok1');
    expect(model.links.map(l => [l.path, l.kind, l.hide_code, l.url])).toEqual([['analysis.ipynb', 'notebook', true, undefined]]);
    await model.revokeLink(model.links[0]);
    expect(model.links).toEqual([]);
    expect(notes).toEqual([{ kind: 'success', message: 'The public link to "analysis.ipynb" is withdrawn.' }]);
    client.createLink = () => Promise.reject(new DatadiveError('The codebook of \'s.csv\' flags email as personal data', 409));
    expect(await model.publish('s.csv', false)).toBeUndefined();
    expect(model.error).toBe('Could not publish "s.csv": The codebook of \'s.csv\' flags email as personal data');
  });

  it('shows a role another owner changed, and leaves a project the user was removed from', async () => {
    const client: any = fakeClient();
    let answer: () => Promise<IProject> = async () => ({ id: 'p1', name: 'Sleep', role: 'owner' });
    client.getProject = () => answer();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p1');
    await model.refreshRole();
    expect(model.project?.role).toBe('owner');
    expect(notes).toEqual([]);
    answer = async () => ({ id: 'p1', name: 'Sleep', role: 'viewer' });
    await model.refreshRole();
    expect(model.project?.role).toBe('viewer');
    expect(model.projects.find(p => p.id === 'p1')?.role).toBe('viewer');
    expect(notes).toEqual([{ kind: 'info', message: 'Your role in "Sleep" is now viewer.' }]);
    answer = () => Promise.reject(new DatadiveError('Hub service unreachable', 502));
    await model.refreshRole(); // tried again next time; nothing changes
    expect(model.project?.role).toBe('viewer');
    expect(model.page).toBe('project');
    answer = () => Promise.reject(new DatadiveError('No project p1; list yours with GET projects', 404));
    await model.refreshRole();
    expect(model.project).toBeNull();
    expect(model.page).toBe('projects');
    expect(model.projects.map(p => p.id)).toEqual(['p2']);
    expect(model.error).toBe('You are no longer a member of "Sleep"; ask its owner if you need it.');
  });

  it('opens a new project on its Files tab, and the Members tab of an opened project lists members', async () => {
    const client: any = fakeClient();
    client.createProject = async (name: string) => ({ id: 'p1', name, role: 'owner' });
    client.listMembers = async () => [{ kind: 'user', name: 'ana', role: 'owner' }];
    const { model } = makeModel(client);
    await model.loadProjects();
    model.tab = 'members'; // the last tab used in another project
    await model.createProject('Sleep');
    expect(model.page).toBe('project');
    expect(model.tab).toBe('files');
    model.tab = 'members';
    await model.openProject('p2');
    expect(model.members.map(m => m.name)).toEqual(['ana']);
  });

  it('opens a project: notebooks and files, storage internals hidden', async () => {
    const { model } = makeModel(fakeClient());
    await model.loadProjects();
    await model.openProject('p1');
    expect(model.page).toBe('project');
    expect(model.notebooks.map(n => n.path)).toEqual(['analysis.ipynb']);
    expect(model.files.map(f => f.path)).toEqual(['survey.csv']);
  });

  it('shows a 404 from the file listing with its message (notebooks still listed)', async () => {
    const { model } = makeModel(fakeClient({ listFiles: new DatadiveError('No project p1, or you cannot see it', 404) }));
    await model.loadProjects();
    await model.openProject('p1');
    expect(model.notebooks).toHaveLength(1);
    expect(model.files).toEqual([]);
    expect(model.error).toBe('Could not list the files of "Sleep": No project p1, or you cannot see it');
  });

  it('a project that disappeared sends the panel back to the list', async () => {
    const client = fakeClient();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p2');
    client.listProjects = () => Promise.resolve(live.slice(0, 1));
    await model.loadProjects();
    expect(model.project).toBeNull();
    expect(model.page).toBe('projects');
  });

  it('an owner sees the activity log with the members, newest first, older pages on demand', async () => {
    const client = fakeClient();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p1');
    await model.loadMembers();
    expect(model.audit.map(e => e.action)).toEqual(['uploaded']);
    expect(model.auditNext).toBe(3);
    await model.loadAudit(true);
    expect(model.audit.map(e => e.action)).toEqual(['uploaded', 'shared']);
    expect(model.auditNext).toBeNull();
    await model.loadAudit(true); // nothing more to read: no request
    expect(client.calls.filter(c => c === 'listAudit')).toHaveLength(2);
  });

  it('a viewer is not asked for the activity log (owners only)', async () => {
    const client = fakeClient();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p2');
    await model.loadMembers();
    expect(client.calls).not.toContain('listAudit');
    expect(model.audit).toEqual([]);
  });

  it('builds project folders from the setting', () => {
    const { model } = makeModel(fakeClient());
    expect(model.projectFolder(live[0])).toBe('Sleep');
    model.applySettings({ projectPath: 'projects/{id}-{name}' });
    expect(model.projectFolder(live[0])).toBe('projects/p1-Sleep');
    expect(model.projectFolder({ ...live[0], path: 'x/y' })).toBe('x/y');
  });
});

describe('template forms', () => {
  it('opens a form with defaults, then the draft, then given values', async () => {
    const { model, drafts } = makeModel(fakeClient());
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('load-csv');
    expect(model.page).toBe('form');
    expect(model.values).toEqual({ name: 'df', file: 'survey.csv' }); // the only CSV, preselected
    drafts.save({ template: 'load-csv', version: '1.0.0', project: 'p1', values: { name: 'half', file: 'survey.csv' } });
    await model.openForm('load-csv');
    expect(model.values).toEqual({ name: 'half', file: 'survey.csv' });
    await model.openForm('load-csv', { values: { name: 'given' }, edit: { notebookPath: 'a.ipynb', cellId: 'c' } });
    expect(model.values).toEqual({ name: 'given' }); // editing a cell ignores the draft
  });

  it('saves a draft on every change (not while editing a cell)', async () => {
    const { model, drafts } = makeModel(fakeClient());
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('load-csv');
    model.setValues({ name: 'typed' }, 0);
    expect(drafts.load('p1', 'load-csv')?.values).toEqual({ name: 'typed' });
    model.discardDraft();
    expect(drafts.load('p1', 'load-csv')).toBeNull();
    expect(model.values).toEqual({ name: 'df' });
    await model.openForm('load-csv', { values: { name: 'x' }, edit: { notebookPath: 'a.ipynb', cellId: 'c' } });
    model.setValues({ name: 'edited' }, 0);
    expect(drafts.load('p1', 'load-csv')).toBeNull();
  });

  it('fills column pickers from the chosen file, and refills them when it changes', async () => {
    const client = fakeClient();
    const { model } = makeModel(client);
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('load-csv');
    // the project's only CSV is preselected, so its columns are there at once
    expect(model.values.file).toBe('survey.csv');
    expect(model.columns).toEqual({ file: ['participant', 'age'] });
    expect(model.currentSchema().properties.x.enum).toEqual(['participant', 'age']);
    expect(model.currentSchema().properties.file.enum).toEqual(['survey.csv']);
    const previews = client.calls.filter(c => c === 'preview').length;
    model.setValues({ name: 'df2', file: 'survey.csv' }, 0); // same file: no new preview
    await flush();
    expect(client.calls.filter(c => c === 'preview').length).toBe(previews);
  });

  it("offers the kernel's data frames and takes the chosen frame's columns", async () => {
    const { model } = makeModel(fakeClient());
    const asked: any[] = [];
    const frames = [{ name: 'df', columns: ['group', 'score'], rows: 4 }];
    model.kernel = () => ({
      requestExecute: (content: any) => {
        asked.push(content);
        const data = Buffer.from(JSON.stringify(frames)).toString('base64');
        return { done: Promise.resolve({ content: { user_expressions: { value: { status: 'ok', data: { 'text/plain': `'${data}'` } } } } }) };
      }
    });
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('group-summary');
    expect(asked[0]).toMatchObject({ code: '', silent: true, store_history: false });
    expect(model.frames.map(f => f.name)).toEqual(['df']);
    expect(model.columns).toEqual({ data: ['group', 'score'] });
    expect(model.currentSchema().properties.group.enum).toEqual(['group', 'score']);
    expect(model.currentSchema().properties.data.enum).toEqual(['df']);
  });

  it('says why no data frames are offered without a kernel', async () => {
    const { model } = makeModel(fakeClient());
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('group-summary');
    expect(model.frames).toEqual([]);
    expect(model.framesNote).toMatch(/No running kernel/);
  });

  it('fills column pickers of a data-frame template from "columns from file"', async () => {
    const { model } = makeModel(fakeClient());
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('group-summary');
    model.setColumnsFrom('survey.csv');
    await flush();
    expect(model.columns).toEqual({ data: ['participant', 'age'] });
    expect(model.currentSchema().properties.group.enum).toEqual(['participant', 'age']);
  });

  it('shows a failing column preview with its message', async () => {
    const { model } = makeModel(fakeClient({ preview: new DatadiveError('survey.csv is not a table', 422) }));
    await model.loadProjects();
    await model.openProject('p1');
    await model.openForm('group-summary');
    model.setColumnsFrom('survey.csv');
    await flush();
    expect(model.error).toBe('Could not read the columns of "survey.csv": survey.csv is not a table');
  });
});

describe('uploads', () => {
  it('refreshes the project folder after an upload, and says so when that fails', async () => {
    const client: any = fakeClient();
    client.upload = (_id: string, _path: string, file: Blob, progress: (l: number, t: number) => void) => {
      progress(file.size, file.size);
      return Promise.resolve({});
    };
    const { model } = makeModel(client);
    const refreshed: string[] = [];
    model.onFilesChanged = async p => {
      refreshed.push(model.projectFolder(p));
    };
    await model.loadProjects();
    await model.openProject('p1');
    const file = Object.assign(new Blob(['a,b\n']), { name: 'new.csv' }) as unknown as File;
    await model.uploadFiles([file]);
    expect(refreshed).toEqual(['Sleep']);
    expect(model.upload).toBeNull();
    expect(model.error).toBe('');
    model.onFilesChanged = () => Promise.reject(new Error('No such project folder: Sleep'));
    await model.uploadFiles([file]);
    expect(model.error).toBe(
      'Uploaded, but the folder "Sleep" could not be refreshed, so a kernel may not see the new file yet: No such project folder: Sleep'
    );
  });

  it('reports progress, then the server message of a failure', async () => {
    const seen: (number | undefined)[] = [];
    const client: any = fakeClient();
    client.upload = (_id: string, _path: string, file: Blob, progress: (l: number, t: number) => void) => {
      progress(file.size / 2, file.size);
      return Promise.reject(new DatadiveError('Your quota of 1 GB is used up', 413));
    };
    const { model } = makeModel(client);
    model.changed.connect(() => seen.push(model.upload?.loaded));
    await model.loadProjects();
    await model.openProject('p1');
    const blob = new Blob(['x'.repeat(100)]);
    await model.uploadFiles([Object.assign(blob, { name: 'big.csv' }) as unknown as File]);
    expect(seen).toContain(50);
    expect(model.upload?.error).toBe('Could not upload "big.csv": Your quota of 1 GB is used up');
    expect(model.error).toBe(model.upload?.error);
  });
});

// Rules for putting template cells into a notebook, and the open-project report (no Lab runtime).
jest.mock('@jupyterlab/services', () => ({ ServerConnection: {} }));
jest.mock('@jupyterlab/coreutils', () => ({ URLExt: { join: (...p: string[]) => p.join('/') } }));

import { insertBlocker, newCells, withSourceHash } from '../src/insertion';
import { CurrentProjectReporter } from '../src/landing';
import { copyTargets } from '../src/savecopy';
import { sourceHash } from '../src/generatedcells';
import { routeClient } from './fakeclient';

describe('newCells', () => {
  it('makes markdown and code cells in order, the code cell without outputs', () => {
    const cells = newCells([
      { cell_type: 'markdown', source: '## Load', metadata: { datadive: { template: 't', role: 'markdown' } } },
      { cell_type: 'code', source: 'df = 1', metadata: { datadive: { template: 't', source_hash: 'sha256:x' } } }
    ]);
    expect(cells.map(c => c.cell_type)).toEqual(['markdown', 'code']);
    expect(cells[1]).toEqual({
      cell_type: 'code',
      source: 'df = 1',
      metadata: { datadive: { template: 't', source_hash: 'sha256:x' } },
      outputs: [],
      execution_count: null
    });
    expect(cells[0]).not.toHaveProperty('outputs');
  });

  it('records a source hash the server left out, without changing the rendered cell', async () => {
    const rendered = { cell_type: 'code' as const, source: 'x = 2', metadata: { datadive: { template: 't' } } };
    const [cell] = newCells([await withSourceHash(rendered as any)]);
    expect(cell.metadata.datadive.source_hash).toBe(await sourceHash('x = 2'));
    expect(rendered.metadata.datadive).toEqual({ template: 't' });
  });
});

describe('insertBlocker', () => {
  it('lets a writable, loaded notebook take cells', () => {
    expect(insertBlocker({ path: 'Study/a.ipynb', writable: true })).toBeNull();
    expect(insertBlocker({ path: 'Study/a.ipynb' })).toBeNull();
  });

  it('refuses a read-only notebook and says what to do', () => {
    const why = insertBlocker({ path: 'Shared/report.ipynb', writable: false });
    expect(why).toMatch(/^report\.ipynb is read-only/);
    expect(why).toContain('save a copy of this one');
    expect(insertBlocker({ path: 'Shared/report.ipynb', readOnly: true })).toBe(why);
  });

  it('asks for a notebook when none is open, and to wait while one loads', () => {
    expect(insertBlocker({ path: '' })).toMatch(/^Open a notebook first/);
    expect(insertBlocker({ path: 'a.ipynb', loading: true })).toMatch(/still loading/);
  });
});

describe('CurrentProjectReporter', () => {
  const client = (fail = false) => {
    const calls: any[] = [];
    return Object.assign(
      routeClient((route, init) => {
        calls.push([route, init.method, JSON.parse(init.body)]);
        if (fail) {
          throw new Error('Forbidden');
        }
      }),
      { calls }
    );
  };

  it('sends the open project once per change', async () => {
    const c = client();
    const r = new CurrentProjectReporter(c as any);
    await r.report('p1');
    await r.report('p1');
    await r.report(null);
    expect(c.calls).toEqual([
      ['api/current-project', 'PUT', { project: 'p1' }],
      ['api/current-project', 'PUT', { project: null }]
    ]);
  });

  it('tries again after a failure', async () => {
    const c = client(true);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const r = new CurrentProjectReporter(c as any);
    await r.report('p1');
    await r.report('p1');
    expect(c.calls).toHaveLength(2);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});


describe('copyTargets', () => {
  const projects: any[] = [
    { id: 'a', name: 'Alpha', role: 'viewer' },
    { id: 'b', name: 'Beta', role: 'editor' },
    { id: 'c', name: 'Gamma', role: 'owner' },
    { id: 'd', name: 'Old', role: 'owner', deleted: true }
  ];
  it('offers the writable projects, the open one first', () => {
    expect(copyTargets(projects, projects[2], p => p.name)).toEqual(['Gamma', 'Beta']);
    expect(copyTargets(projects, projects[0], p => p.name)).toEqual(['Beta', 'Gamma']);
    expect(copyTargets(projects.slice(0, 1), null, p => p.name)).toEqual([]);
  });
});

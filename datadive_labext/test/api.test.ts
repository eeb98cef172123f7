// The pure helpers of the API client (no JupyterLab runtime needed).
jest.mock('@jupyterlab/services', () => ({ ServerConnection: {} }), { virtual: false });
jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: { join: (...parts: string[]) => parts.map((p, i) => (i ? p.replace(/^\/+/, '') : p)).map(p => p.replace(/\/+$/, '')).join('/') }
}));

import { DatadiveClient, encodePath, errorMessage, renderedCells } from '../src/api';

describe('api helpers', () => {
  it('shows the server message of JSON errors', () => {
    expect(errorMessage(409, 'Conflict', '{"status": 409, "message": "You already have a project named \'x\'"}')).toBe(
      "You already have a project named 'x'"
    );
    expect(errorMessage(404, 'Not Found', '{"reason": "gone"}')).toBe('gone');
    expect(errorMessage(500, 'Internal Server Error', '<html>boom</html>')).toBe('500 Internal Server Error');
    expect(errorMessage(502, '', 'upstream down')).toBe('upstream down');
  });
  it('encodes path segments, keeping slashes', () => {
    expect(encodePath('data/my file #1.csv')).toBe('data/my%20file%20%231.csv');
    expect(encodePath('/a//b/')).toBe('a/b');
  });
  it('builds server-extension URLs and rewrites service next links', () => {
    const c = new DatadiveClient({ baseUrl: 'http://h/user/ana/' } as any);
    expect(c.url('api/hub/projects', { limit: 5, cursor: undefined })).toBe('http://h/user/ana/datadive/api/hub/projects?limit=5');
    expect(c.forwardedUrl('/services/datadive/api/v1/projects?cursor=abc')).toBe('http://h/user/ana/datadive/api/hub/projects?cursor=abc');
  });
  it('reads rendered cells in every shape', () => {
    const md = { cell_type: 'markdown', source: '### x', metadata: { datadive: { role: 'markdown' } } };
    const code = { cell_type: 'code', source: ['a = 1\n', 'a'], metadata: { datadive: { template: 't' } } };
    expect(renderedCells({ cells: [md, code] }).map(c => c.cell_type)).toEqual(['markdown', 'code']);
    expect(renderedCells({ cells: [code] })[0].source).toBe('a = 1\na');
    expect(renderedCells({ cell: code })[0].metadata.datadive.template).toBe('t');
    expect(renderedCells({ source: 'x', metadata: {} })[0]).toEqual({ source: 'x', metadata: {}, cell_type: 'code' });
  });
});

describe('environment routes', () => {
  it('puts the action before the project folder', async () => {
    const c = new DatadiveClient({ baseUrl: 'http://h/user/ana/' } as any);
    const calls: [string, RequestInit][] = [];
    (c as any).fetchUrl = async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return { enabled: true };
    };
    await c.environmentStatus('My study');
    await c.addPackage('My study', 'semopy>=2.3', true);
    await c.removePackage('My study', 'semopy');
    await c.buildEnvironment('My study');
    expect(calls.map(([u]) => u)).toEqual([
      'http://h/user/ana/datadive/api/environments/status/My%20study',
      'http://h/user/ana/datadive/api/environments/packages/My%20study',
      'http://h/user/ana/datadive/api/environments/packages/My%20study',
      'http://h/user/ana/datadive/api/environments/build/My%20study'
    ]);
    expect(JSON.parse(calls[1][1].body as string)).toEqual({ add: 'semopy>=2.3', build: true });
    expect(JSON.parse(calls[2][1].body as string)).toEqual({ remove: 'semopy' });
    expect(calls[3][1].method).toBe('POST');
  });
});

// The pure helpers of the API client (no JupyterLab runtime needed).
jest.mock('@jupyterlab/services', () => ({ ServerConnection: {} }), { virtual: false });
jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: { join: (...parts: string[]) => parts.map((p, i) => (i ? p.replace(/^\/+/, '') : p)).map(p => p.replace(/\/+$/, '')).join('/') }
}));

import { DatadiveClient, encodePath, errorMessage } from '../src/api';

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
    expect(c.apiUrl('service', '/projects/{project_id}/files/{path}', { path: { project_id: 'p 1', path: 'a b/c.csv' } })).toBe(
      'http://h/user/ana/datadive/api/hub/projects/p%201/files/a%20b/c.csv'
    );
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

/**
 * The panel's client of the `datadive` server extension. Everything goes through JupyterLab's
 * ServerConnection (same origin, the server's XSRF / token handling); the hub service is reached
 * only through the server extension's forwarder `datadive/api/hub/<path>`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IEnvironmentStatus } from './environmentlogic';
import type { components as ServerComponents, paths as ServerPaths } from './generated/server';
import type { paths as ServicePaths } from './generated/service';
import type { IAuditEvent, IFileEntry, ILink, IMember, IPreview, IProject, ITemplate, Role } from './types';

/** The two APIs the panel calls: the server extension's own routes and the hub service's
 * (through the forwarder `datadive/api/hub/`); their types come from their OpenAPI documents. */
export interface IApis {
  server: ServerPaths;
  service: ServicePaths;
}
const PREFIX: Record<keyof IApis, string> = { server: '', service: 'api/hub' };

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The methods a path of an API documents. */
export type MethodOf<Item> = { [M in Method]: Item extends { [K in M]: object } ? M : never }[Method];
type OperationOf<Item, M extends Method> = Item extends { [K in M]: infer O } ? O : never;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : void;
/** The JSON a successful call answers (void for 204 / no body). */
export type Answer<Item, M extends Method> =
  OperationOf<Item, M> extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202 | 204 | '2XX'>]> : never;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type PathOf<O> = O extends { parameters: { path?: infer P } } ? NonNullable<P> : never;
/** Path parameters, query and JSON body of one call, as its operation documents them. */
export interface ICall<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
}
/** Answer of a service route (`Served<'/projects', 'get'>`). */
export type Served<P extends keyof ServicePaths, M extends Method> = Answer<ServicePaths[P], M>;

/** A documented path with its `{name}` parameters filled in (`{path}`: a relative path). */
export function fillPath(template: string, params: Record<string, unknown> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === null || value === '') {
      throw new Error(`${template}: no value for {${name}}`);
    }
    return name === 'path' ? encodePath(String(value)) : encodeURIComponent(String(value));
  });
}

/** An error answered by the server, carrying the server's own message. */
export class DatadiveError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'DatadiveError';
  }
}

/** The message of a JSON error body ({"status", "message"} / tornado's {"reason"}), or the text. */
export function errorMessage(status: number, statusText: string, bodyText: string): string {
  let message = '';
  try {
    const body = JSON.parse(bodyText);
    message = body.message || body.reason || body.detail || body.error || '';
  } catch {
    message = bodyText && bodyText.length < 300 && !/<html/i.test(bodyText) ? bodyText.trim() : '';
  }
  return message ? message : `${status} ${statusText || 'request failed'}`;
}

/** Encode each segment of a relative path for a URL, keeping the slashes. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter(s => s !== '')
    .map(encodeURIComponent)
    .join('/');
}

export class DatadiveClient {
  readonly settings: ServerConnection.ISettings;

  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  /** Absolute URL of a server-extension route (`datadive/<route>`). */
  url(route: string, query?: Record<string, string | number | boolean | undefined>): string {
    let url = URLExt.join(this.settings.baseUrl, 'datadive', route);
    const q = Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== '');
    if (q.length) {
      url += '?' + q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    }
    return url;
  }

  /** URL of a documented path of one API, its parameters filled in. */
  apiUrl<A extends keyof IApis>(api: A, path: keyof IApis[A] & string, call: { path?: object; query?: object } = {}): string {
    const route = PREFIX[api] + fillPath(path, call.path as Record<string, unknown>);
    return this.url(route.replace(/^\//, ''), call.query as Record<string, string | number | undefined>);
  }

  /**
   * The one way the panel calls an API: `api` names the document, `path` a path it lists and
   * `method` one of its operations; parameters, body and answer are typed from the document.
   */
  async call<A extends keyof IApis, P extends keyof IApis[A] & string, M extends MethodOf<IApis[A][P]>>(
    api: A,
    method: M,
    path: P,
    call: ICall<OperationOf<IApis[A][P], M>> = {}
  ): Promise<Answer<IApis[A][P], M>> {
    const init: RequestInit = { method: method.toUpperCase() };
    if (call.body !== undefined) {
      init.body = JSON.stringify(call.body);
    }
    return this.fetchUrl(this.apiUrl(api, path, call), init);
  }

  async fetchUrl<T = any>(url: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    if (init.body && typeof init.body === 'string' && !headers.has('Content-Type')) {
      headers.set('Content-Type', 'application/json');
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, { ...init, headers }, this.settings);
    } catch (err) {
      throw new DatadiveError(`Cannot reach the Jupyter server: ${(err as Error).message}`, 0);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new DatadiveError(errorMessage(response.status, response.statusText, text), response.status);
    }
    if (!text) {
      return undefined as unknown as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as unknown as T;
    }
  }

  // ---- projects -------------------------------------------------------------------------------

  /** Every project the user can see (follows the service's `next` cursor). */
  async listProjects(opts: { deleted?: boolean } = {}): Promise<IProject[]> {
    const out: IProject[] = [];
    const deleted = opts.deleted ? 'true' : undefined;
    let cursor: string | undefined;
    for (let guard = 0; guard < 200; guard++) {
      const page = await this.call('service', 'get', '/projects', { query: { limit: 500, deleted, cursor } });
      out.push(...page.projects);
      if (!page.next) {
        break;
      }
      cursor = page.next;
    }
    return out;
  }

  createProject(name: string, description = ''): Promise<IProject> {
    return this.call('service', 'post', '/projects', { body: { name, description } });
  }

  async listLinks(id: string): Promise<ILink[]> {
    return (await this.call('service', 'get', '/projects/{project_id}/links', { path: { project_id: id } })).links;
  }

  createLink(id: string, path: string, hideCode: boolean): Promise<ILink> {
    return this.call('service', 'post', '/projects/{project_id}/links', { path: { project_id: id }, body: { path, hide_code: hideCode } });
  }

  deleteLink(id: string, linkId: string): Promise<void> {
    return this.call('service', 'delete', '/projects/{project_id}/links/{link_id}', { path: { project_id: id, link_id: linkId } });
  }

  /** A page of the project's audit log, newest first (owners only); `next` continues it. */
  listAudit(id: string, before?: number): Promise<{ events: IAuditEvent[]; next: number | null }> {
    return this.call('service', 'get', '/projects/{project_id}/audit', { path: { project_id: id }, query: { limit: 50, before } });
  }

  /** Where the whole audit log downloads as JSON lines. */
  auditExportUrl(id: string): string {
    return this.apiUrl('service', '/projects/{project_id}/audit/export', { path: { project_id: id } });
  }

  getProject(id: string): Promise<IProject> {
    return this.call('service', 'get', '/projects/{project_id}', { path: { project_id: id } });
  }

  renameProject(id: string, name: string): Promise<IProject> {
    return this.call('service', 'patch', '/projects/{project_id}', { path: { project_id: id }, body: { name } });
  }

  /** Soft delete; answers the project with `deleted` set. */
  deleteProject(id: string): Promise<IProject> {
    return this.call('service', 'delete', '/projects/{project_id}', { path: { project_id: id } });
  }

  restoreProject(id: string): Promise<IProject> {
    return this.call('service', 'post', '/projects/{project_id}/restore', { path: { project_id: id }, body: {} as never });
  }

  async listMembers(id: string): Promise<IMember[]> {
    const body = await this.call('service', 'get', '/projects/{project_id}/members', { path: { project_id: id } });
    return body.members.map(m => ({ kind: m.kind, name: m.name, role: m.role, pending: m.pending === true }));
  }

  addMember(id: string, member: IMember): Promise<unknown> {
    return this.call('service', 'post', '/projects/{project_id}/members', {
      path: { project_id: id },
      body: { kind: member.kind, name: member.name, role: member.role as Role }
    });
  }

  setMemberRole(id: string, member: IMember): Promise<unknown> {
    return this.call('service', 'patch', '/projects/{project_id}/members/{kind}/{name}', {
      path: { project_id: id, kind: member.kind, name: member.name },
      body: { role: member.role as Role }
    });
  }

  removeMember(id: string, member: IMember): Promise<unknown> {
    return this.call('service', 'delete', '/projects/{project_id}/members/{kind}/{name}', {
      path: { project_id: id, kind: member.kind, name: member.name }
    });
  }

  // ---- notebooks and files --------------------------------------------------------------------

  async listNotebooks(id: string): Promise<IFileEntry[]> {
    const body = await this.call('service', 'get', '/projects/{project_id}/notebooks', { path: { project_id: id } });
    return body.notebooks.map(n => ({ path: n.path, name: n.name, type: 'notebook' as const, last_modified: n.updated_at ?? undefined }));
  }

  createNotebook(id: string, name: string): Promise<Served<'/projects/{project_id}/notebooks', 'post'>> {
    return this.call('service', 'post', '/projects/{project_id}/notebooks', { path: { project_id: id }, body: { name, path: name } });
  }

  /** Every file and folder of a project (a recursive listing). */
  async listFiles(id: string): Promise<IFileEntry[]> {
    const body = await this.call('service', 'get', '/projects/{project_id}/files', { path: { project_id: id }, query: { recursive: 'true' } });
    const out: IFileEntry[] = body.files.map(f => ({
      path: f.path,
      name: f.name,
      type: f.path.endsWith('.ipynb') ? 'notebook' : 'file',
      size: f.size,
      last_modified: f.last_modified ?? undefined
    }));
    for (const d of body.folders) {
      out.push({ path: d.path.replace(/\/$/, ''), name: d.name, type: 'directory' });
    }
    return out;
  }

  preview(id: string, path: string, rows = 20): Promise<IPreview> {
    return this.call('service', 'get', '/projects/{project_id}/preview/{path}', { path: { project_id: id, path }, query: { rows } });
  }

  /** URL that PUT uploads a file's bytes to (through the forwarder). */
  uploadUrl(id: string, path: string): string {
    return this.apiUrl('service', '/projects/{project_id}/files/{path}', { path: { project_id: id, path } });
  }

  /**
   * Upload one file with progress (XMLHttpRequest: fetch has no upload progress events).
   * Resolves with the server's answer; rejects with a DatadiveError carrying the server message.
   */
  upload(id: string, path: string, file: Blob, onProgress: (loaded: number, total: number) => void): Promise<any> {
    const url = this.uploadUrl(id, path);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      const token = this.settings.token;
      if (token && this.settings.appendToken !== false) {
        xhr.setRequestHeader('Authorization', `token ${token}`);
      }
      const xsrf = document.cookie.match('\\b_xsrf=([^;]*)\\b');
      if (xsrf) {
        xhr.setRequestHeader('X-XSRFToken', xsrf[1]);
      }
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = e => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onerror = () => reject(new DatadiveError('Upload failed: the server could not be reached.', 0));
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(file.size, file.size);
          try {
            resolve(xhr.responseText ? JSON.parse(xhr.responseText) : {});
          } catch {
            resolve({});
          }
        } else {
          reject(new DatadiveError(errorMessage(xhr.status, xhr.statusText, xhr.responseText), xhr.status));
        }
      };
      xhr.send(file);
    });
  }

  // ---- templates ------------------------------------------------------------------------------

  /** The gallery; `offline` is set when the server could not reach the template library and
   * answered with its last list or the built-in templates. */
  async listTemplates(): Promise<ITemplate[] & { offline?: boolean }> {
    const body = await this.call('server', 'get', '/api/templates');
    return Object.assign(body.templates, { offline: body.offline });
  }

  getTemplate(id: string, version?: string): Promise<ITemplate> {
    return this.call('server', 'get', '/api/templates/{template_id}', { path: { template_id: id }, query: { version } });
  }

  /** The server's hash of a cell source (`sha256:<hex>`), for pages without Web Crypto. */
  async sourceHash(source: string): Promise<string> {
    return (await this.call('server', 'post', '/api/source-hash', { body: { source } })).hash;
  }

  /** Render a template with values into cells (optional markdown, then code). */
  async renderCells(template: string, version: string | undefined, values: Record<string, unknown>, project: string | null): Promise<IRenderedCell[]> {
    return (await this.call('server', 'post', '/api/render', { body: { template, version, values, project } })).cells;
  }

  // ---- project environments (docs/environments.md) -------------------------------------------

  /** The environment of the project in `folder` (its folder in the file tree). */
  environmentStatus(folder: string): Promise<IEnvironmentStatus> {
    return this.call('server', 'get', '/api/environments/status/{folder}', { path: { folder } });
  }

  /** Add (or change the version range of) a package; re-locks; `build` also starts a build. */
  addPackage(folder: string, spec: string, build = false): Promise<IEnvironmentStatus> {
    return this.call('server', 'post', '/api/environments/packages/{folder}', { path: { folder }, body: { add: spec, build } });
  }

  removePackage(folder: string, name: string): Promise<IEnvironmentStatus> {
    return this.call('server', 'post', '/api/environments/packages/{folder}', { path: { folder }, body: { remove: name } });
  }

  buildEnvironment(folder: string): Promise<IEnvironmentStatus> {
    return this.call('server', 'post', '/api/environments/build/{folder}', { path: { folder } });
  }

  sync(): Promise<Answer<ServerPaths['/api/sync'], 'get'>> {
    return this.call('server', 'get', '/api/sync');
  }
}

/** A cell of a render answer (`cells` of `POST datadive/api/render`), as far as insertion reads it. */
export type IRenderedCell = Pick<ServerComponents['schemas']['Cell'], 'cell_type' | 'source' | 'metadata'>;

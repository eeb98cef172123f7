/**
 * The panel's client of the `datadive` server extension. Everything goes through JupyterLab's
 * ServerConnection (same origin, the server's XSRF / token handling); the hub service is reached
 * only through the server extension's forwarder `datadive/api/hub/<path>`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IEnvironmentStatus } from './environmentlogic';
import {
  IFileEntry,
  IMember,
  IPreview,
  IProject,
  ITemplate,
  nextPage,
  normalizePreview,
  normalizeTemplate,
  unwrapList
} from './logic';

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
  url(route: string, query?: Record<string, string | number | undefined>): string {
    let url = URLExt.join(this.settings.baseUrl, 'datadive', route);
    const q = Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== '');
    if (q.length) {
      url += '?' + q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    }
    return url;
  }

  async request<T = any>(route: string, init: RequestInit = {}, query?: Record<string, string | number | undefined>): Promise<T> {
    return this.fetchUrl<T>(this.url(route, query), init);
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

  /** A hub-service route through the forwarder. */
  hub<T = any>(path: string, init: RequestInit = {}, query?: Record<string, string | number | undefined>): Promise<T> {
    return this.request<T>(`api/hub/${path}`, init, query);
  }

  // ---- projects -------------------------------------------------------------------------------

  /** Every project the user can see (follows pagination). */
  async listProjects(opts: { deleted?: boolean } = {}): Promise<IProject[]> {
    const out: IProject[] = [];
    let body: any = await this.hub('projects', {}, { limit: 500, deleted: opts.deleted ? 'true' : undefined });
    for (let guard = 0; guard < 200; guard++) {
      out.push(...unwrapList<IProject>(body, 'projects'));
      const next = nextPage(body);
      if (!next) {
        break;
      }
      body = next.startsWith('http') || next.startsWith('/')
        ? await this.fetchUrl(this.forwardedUrl(next))
        : await this.hub('projects', {}, { limit: 500, cursor: next, deleted: opts.deleted ? 'true' : undefined });
    }
    return out;
  }

  /** A "next" link pointing at the service is rewritten to the forwarder. */
  forwardedUrl(next: string): string {
    const marker = '/api/v1/';
    const i = next.indexOf(marker);
    return i >= 0 ? this.url(`api/hub/${next.slice(i + marker.length)}`) : next;
  }

  createProject(name: string, description = ''): Promise<IProject> {
    return this.hub('projects', { method: 'POST', body: JSON.stringify({ name, description }) });
  }

  getProject(id: string): Promise<IProject> {
    return this.hub(`projects/${id}`);
  }

  renameProject(id: string, name: string): Promise<IProject> {
    return this.hub(`projects/${id}`, { method: 'PATCH', body: JSON.stringify({ name }) });
  }

  deleteProject(id: string): Promise<void> {
    return this.hub(`projects/${id}`, { method: 'DELETE' });
  }

  restoreProject(id: string): Promise<IProject> {
    return this.hub(`projects/${id}/restore`, { method: 'POST', body: '{}' });
  }

  async listMembers(id: string): Promise<IMember[]> {
    const body = await this.hub(`projects/${id}/members`);
    // the service's Member schema (datadive_hub/api/openapi/projects.yaml)
    return (body as { members: IMember[] }).members.map(m => ({
      kind: m.kind,
      name: m.name,
      role: m.role,
      pending: m.pending === true
    }));
  }

  addMember(id: string, member: IMember): Promise<unknown> {
    return this.hub(`projects/${id}/members`, {
      method: 'POST',
      body: JSON.stringify({ kind: member.kind, name: member.name, role: member.role })
    });
  }

  setMemberRole(id: string, member: IMember): Promise<unknown> {
    return this.hub(`projects/${id}/members/${member.kind}/${encodeURIComponent(member.name)}`, {
      method: 'PATCH',
      body: JSON.stringify({ role: member.role })
    });
  }

  removeMember(id: string, member: IMember): Promise<unknown> {
    return this.hub(`projects/${id}/members/${member.kind}/${encodeURIComponent(member.name)}`, { method: 'DELETE' });
  }

  // ---- notebooks and files --------------------------------------------------------------------

  async listNotebooks(id: string): Promise<IFileEntry[]> {
    const body = await this.hub(`projects/${id}/notebooks`);
    return unwrapList<any>(body, 'notebooks').map(n => ({
      path: String(n.path ?? n.name),
      name: String(n.name ?? n.path),
      type: 'notebook' as const,
      size: n.size,
      last_modified: n.last_modified ?? n.updated
    }));
  }

  createNotebook(id: string, name: string): Promise<any> {
    return this.hub(`projects/${id}/notebooks`, { method: 'POST', body: JSON.stringify({ name, path: name }) });
  }

  /** Files of a project (recursive listing where the service supports it). */
  async listFiles(id: string, folder = ''): Promise<IFileEntry[]> {
    const body = await this.hub(`projects/${id}/files${folder ? '/' + encodePath(folder) : ''}`, {}, { recursive: 'true' });
    const files = unwrapList<any>(body, 'files', 'content', 'entries');
    const folders = body && Array.isArray(body.folders) ? body.folders : [];
    const out: IFileEntry[] = files.map(f => {
      const path = String(f.path ?? f.key ?? f.name);
      const isDir = f.type === 'directory' || f.type === 'folder' || path.endsWith('/');
      return {
        path: path.replace(/\/$/, ''),
        name: String(f.name ?? path.split('/').filter(Boolean).pop()),
        type: isDir ? 'directory' : path.endsWith('.ipynb') ? 'notebook' : 'file',
        size: f.size,
        last_modified: f.last_modified
      };
    });
    for (const d of folders) {
      const path = String(typeof d === 'string' ? d : d.path ?? d.name).replace(/\/$/, '');
      out.push({ path, name: path.split('/').pop() || path, type: 'directory' });
    }
    return out;
  }

  async preview(id: string, path: string, rows = 20): Promise<IPreview> {
    const body = await this.hub(`projects/${id}/preview/${encodePath(path)}`, {}, { rows });
    return normalizePreview(body);
  }

  /** URL that PUT uploads a file's bytes to (through the forwarder). */
  uploadUrl(id: string, path: string): string {
    return this.url(`api/hub/projects/${id}/files/${encodePath(path)}`);
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
  async listTemplates(): Promise<ITemplate[] & { offline?: boolean; categoryOrder?: string[] }> {
    const body = await this.request('api/templates');
    const list: ITemplate[] & { offline?: boolean; categoryOrder?: string[] } = unwrapList<any>(body, 'templates').map(normalizeTemplate);
    list.offline = Boolean(body?.offline);
    if (Array.isArray(body?.category_order)) {
      list.categoryOrder = body.category_order.map(String);
    }
    return list;
  }

  async getTemplate(id: string, version?: string | number): Promise<ITemplate> {
    const body = await this.request(`api/templates/${encodeURIComponent(id)}`, {}, { version: version === undefined ? undefined : String(version) });
    return normalizeTemplate(body?.template ?? body);
  }

  /** Render a template with values into cells (optional markdown, then code). */
  async renderCells(
    template: string,
    version: string | number | undefined,
    values: Record<string, unknown>,
    project: string | null
  ): Promise<IRenderedCell[]> {
    const body = await this.request('api/render', {
      method: 'POST',
      body: JSON.stringify({ template, version, values, project })
    });
    return renderedCells(body);
  }

  // ---- sync -----------------------------------------------------------------------------------

  // ---- project environments (docs/environments.md) -------------------------------------------

  /** The environment of the project in `folder` (its folder in the file tree). */
  environmentStatus(folder: string): Promise<IEnvironmentStatus> {
    return this.request(`api/environments/status/${encodeURIComponent(folder)}`);
  }

  /** Add (or change the version range of) a package; re-locks; `build` also starts a build. */
  addPackage(folder: string, spec: string, build = false): Promise<IEnvironmentStatus> {
    return this.request(`api/environments/packages/${encodeURIComponent(folder)}`, {
      method: 'POST',
      body: JSON.stringify({ add: spec, build })
    });
  }

  removePackage(folder: string, name: string): Promise<IEnvironmentStatus> {
    return this.request(`api/environments/packages/${encodeURIComponent(folder)}`, {
      method: 'POST',
      body: JSON.stringify({ remove: name })
    });
  }

  buildEnvironment(folder: string): Promise<IEnvironmentStatus> {
    return this.request(`api/environments/build/${encodeURIComponent(folder)}`, { method: 'POST' });
  }

  sync(): Promise<any> {
    return this.request('api/sync');
  }
}

export interface IRenderedCell {
  source: string;
  metadata: Record<string, any>;
  cell_type: string;
}

/** The cells of a render answer: {cells: [...]}, {cell: {...}}, or one cell / {source, metadata}. */
export function renderedCells(body: any): IRenderedCell[] {
  const raw: any[] = Array.isArray(body?.cells) ? body.cells : Array.isArray(body) ? body : [body?.cell ?? body];
  return raw
    .filter(c => c && (c.source !== undefined || c.code !== undefined))
    .map(c => ({
      source: Array.isArray(c.source) ? c.source.join('') : String(c.source ?? c.code ?? ''),
      metadata: c.metadata ?? (body?.datadive ? { datadive: body.datadive } : {}),
      cell_type: c.cell_type ?? 'code'
    }));
}

/**
 * The panel's calls for history: versions of a file, their bytes, restores, the trash (through
 * the server extension's forwarder to the hub service) and the comparison of two versions of a
 * notebook (the server extension's own route, nbdime).
 */
import { ServerConnection } from '@jupyterlab/services';

import { DatadiveClient, DatadiveError, Served, errorMessage } from './api';
import type { INotebookDiff, ITrashPage, IVersion, IVersionPage } from './historylogic';

/** Versions per page of the Versions list. */
export const VERSIONS_PAGE = 50;

export class HistoryClient {
  constructor(readonly client: DatadiveClient) {}

  async versions(projectId: string, path: string, cursor?: string | null): Promise<IVersionPage> {
    const page = await this.client.call('service', 'get', '/projects/{project_id}/versions/{path}', {
      path: { project_id: projectId, path },
      query: { limit: VERSIONS_PAGE, cursor: cursor || undefined }
    });
    return { ...page, versions: page.versions.filter((v): v is IVersion => v.version_id !== null) };
  }

  /** Make `versionId` the current version again (rolls forward: a new version is written). */
  restoreVersion(projectId: string, path: string, versionId: string): Promise<Served<'/projects/{project_id}/versions/{path}', 'post'>> {
    return this.client.call('service', 'post', '/projects/{project_id}/versions/{path}', {
      path: { project_id: projectId, path },
      body: { version_id: versionId }
    });
  }

  /** The bytes of one version. */
  async read(projectId: string, path: string, versionId: string): Promise<Blob> {
    const url = this.client.apiUrl('service', '/projects/{project_id}/files/{path}', { path: { project_id: projectId, path }, query: { version_id: versionId } });
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, {}, this.client.settings);
    } catch (err) {
      throw new DatadiveError(`Cannot reach the Jupyter server: ${(err as Error).message}`, 0);
    }
    if (!response.ok) {
      throw new DatadiveError(errorMessage(response.status, response.statusText, await response.text()), response.status);
    }
    return response.blob();
  }

  trash(projectId: string, cursor?: string | null): Promise<ITrashPage> {
    return this.client.call('service', 'get', '/projects/{project_id}/trash', { path: { project_id: projectId }, query: { limit: VERSIONS_PAGE, cursor: cursor || undefined } });
  }

  restoreFromTrash(projectId: string, path: string): Promise<{ path: string; kind: string; files: number }> {
    return this.client.call('service', 'post', '/projects/{project_id}/trash', { path: { project_id: projectId }, body: { path } });
  }

  /** Two versions of a notebook compared cell by cell (`newer` omitted: the current one). */
  compare(projectId: string, path: string, older: string, newer?: string): Promise<INotebookDiff> {
    return this.client.call('server', 'get', '/api/history/diff/{project_id}/{path}', { path: { project_id: projectId, path }, query: { old: older, new: newer } });
  }
}

/**
 * Tells the server which project is open in the panel, so that a new notebook or file made in
 * Lab where the user cannot write (the read-only root, a viewer's project) lands in it
 * (`PUT datadive/api/current-project`, see datadive_contents/landing.py).
 */
import { DatadiveClient } from './api';

/** Sends the open project's id whenever it changes (null when none is open). */
export class CurrentProjectReporter {
  constructor(private client: DatadiveClient) {}

  private sent: string | null | undefined = undefined;

  /** Report `projectId` if it differs from what was last sent; failures are only logged. */
  async report(projectId: string | null): Promise<void> {
    if (projectId === this.sent) {
      return;
    }
    this.sent = projectId;
    try {
      await this.client.call('server', 'put', '/api/current-project', { body: { project: projectId } });
    } catch (err) {
      this.sent = undefined; // try again on the next change
      console.warn(`Datadive: could not tell the server which project is open: ${(err as Error).message}`);
    }
  }
}

/**
 * What the panel asks of JupyterLab: open files and folders, insert or update template cells,
 * prompts and confirmations (index.ts implements it).
 */
import type { IProject } from './types';

export interface IPanelActions {
  openFile(path: string): void;
  openProjectFolder(project: IProject): void;
  insert(): Promise<void>;
  update(): Promise<void>;
  prompt(title: string, label: string, value?: string): Promise<string | null>;
  confirm(title: string, body: string, ok: string): Promise<boolean>;
  /** A project kernel was (re)registered: ask the server for the kernel specs again. */
  kernelsChanged?(): void;
}

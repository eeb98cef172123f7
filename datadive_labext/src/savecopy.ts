/**
 * "Save a copy in a project": a notebook you can only view (a viewer's project) is copied into a
 * project you can write to, chosen from a list (the open project first, if writable).
 */
import { canEdit } from './roles';
import type { IProject } from './types';

/** The folders a copy may go to: the writable projects, the open one first. */
export function copyTargets(projects: IProject[], open: IProject | null, folderOf: (p: IProject) => string): string[] {
  const writable = projects.filter(p => canEdit(p.role as string) && !p.deleted);
  writable.sort((a, b) => Number(b.id === open?.id) - Number(a.id === open?.id));
  return writable.map(folderOf);
}

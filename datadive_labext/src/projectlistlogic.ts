/**
 * Pure logic of the project list (projectlist.tsx): sort, filter, mine and shared.
 */
import { roleRank } from './roles';
import type { IProject } from './types';

export type ProjectSort = 'name' | 'updated' | 'role';

/** Sort projects: by name (case-insensitive, numeric aware), most recently updated, or role. */
export function sortProjects(projects: IProject[], by: ProjectSort = 'name'): IProject[] {
  const byName = (a: IProject, b: IProject) =>
    a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' });
  const copy = [...projects];
  if (by === 'updated') {
    copy.sort((a, b) => {
      const ta = Date.parse(a.updated_at || a.created_at || '') || 0;
      const tb = Date.parse(b.updated_at || b.created_at || '') || 0;
      return tb - ta || byName(a, b);
    });
  } else if (by === 'role') {
    copy.sort((a, b) => roleRank(b.role) - roleRank(a.role) || byName(a, b));
  } else {
    copy.sort(byName);
  }
  return copy;
}

/** Projects whose name or description contains every word of the query (case-insensitive). */
export function filterProjects(projects: IProject[], query: string): IProject[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) {
    return projects;
  }
  return projects.filter(p => {
    const hay = `${p.name} ${p.description || ''} ${p.role || ''}`.toLowerCase();
    return words.every(w => hay.includes(w));
  });
}

/** Split projects into the user's own (created by them, else owned) and those shared with them. */
export function splitProjects(projects: IProject[], user?: string): { mine: IProject[]; shared: IProject[] } {
  const mine: IProject[] = [];
  const shared: IProject[] = [];
  for (const p of projects) {
    const own = user && p.created_by ? p.created_by === user : p.role === 'owner';
    (own ? mine : shared).push(p);
  }
  return { mine, shared };
}

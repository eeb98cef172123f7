/**
 * Project roles in increasing power, and what each one may do.
 */
import type { Role } from './types';

/** Roles in increasing power. */
export const ROLES: Role[] = ['viewer', 'editor', 'owner'];

export function roleRank(role: string | null | undefined): number {
  const i = ROLES.indexOf((role || '') as Role);
  return i;
}

export function canEdit(role: string | null | undefined): boolean {
  return roleRank(role) >= 1;
}

export function isOwner(role: string | null | undefined): boolean {
  return roleRank(role) >= 2;
}

/**
 * Pure helpers of the Environment tab: the server's status (GET datadive/api/environments/status/
 * <folder>, docs/environments.md) turned into what the tab shows.
 */

import type { components as ServerComponents } from './generated/server';

/** The server's answer (datadive_server_ext/openapi.yaml, EnvironmentStatus). */
export type IEnvironmentStatus = ServerComponents['schemas']['EnvironmentStatus'];
/** The build in progress or just finished. */
export type IBuildProgress = NonNullable<IEnvironmentStatus['build']>;

/** The package name of a requirement line (`semopy>=2.3 ; python_version < "3.12"` → `semopy`). */
export function packageName(requirement: string): string {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement);
  return m ? m[1] : requirement.trim();
}

/** Why a package entry cannot be sent, or null (the server checks it fully). */
export function packageSpecProblem(text: string): string | null {
  const t = text.trim();
  if (!t) {
    return 'Type a package name, e.g. semopy or semopy>=2.3';
  }
  if (/^-/.test(t)) {
    return 'Options are not allowed: type a package name and optional version range';
  }
  if (/:\/\/|^[./~]|\s@\s/.test(t)) {
    return 'URLs and local paths are not allowed: packages come from the indexes your administrator allows';
  }
  if (!/^[A-Za-z0-9]/.test(t)) {
    return 'A package name starts with a letter or digit';
  }
  return null;
}

export type EnvironmentState = 'off' | 'empty' | 'building' | 'failed' | 'outdated' | 'ready' | 'not-built';

/** One word for the state of the project's environment. */
export function environmentState(s: IEnvironmentStatus): EnvironmentState {
  if (!s.enabled) {
    return 'off';
  }
  if (s.build?.running) {
    return 'building';
  }
  if (s.build?.error || (s.last_error && !s.environment?.current)) {
    return 'failed';
  }
  if (!s.requirements?.present && !s.lock?.present) {
    return 'empty';
  }
  if (!s.environment) {
    return 'not-built';
  }
  return s.environment.current && !s.lock?.stale ? 'ready' : 'outdated';
}

/** The sentence under the tab's title. */
export function stateLine(s: IEnvironmentStatus): string {
  switch (environmentState(s)) {
    case 'off':
      return s.message || 'Project environments are turned off on this hub.';
    case 'empty':
      return 'This project lists no packages: it uses the packages of the image. Add one below.';
    case 'building':
      return `Building: ${s.build?.phase ?? ''} (${percent(s.build?.progress ?? 0)})`;
    case 'failed':
      return s.environment
        ? 'The last build failed; the kernel keeps using the previous environment.'
        : 'The last build failed.';
    case 'not-built':
      return s.cached
        ? 'Not built on this server yet; the environment is in the cache, so building takes a moment.'
        : 'Not built yet: press Build.';
    case 'outdated':
      return `Built for an earlier lock; press Build (or restart the kernel) to use the current packages.`;
    case 'ready':
      return `Ready: choose the kernel "${s.environment?.kernel_display_name}" for this project's notebooks.`;
  }
}

export function percent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

/** Poll again in this many ms (a running build), or null (nothing to wait for). */
export function pollDelay(s: IEnvironmentStatus | null): number | null {
  return s?.build?.running ? 1000 : null;
}

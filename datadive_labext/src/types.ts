/**
 * The shapes of the panel's data (projects, members, links, files, templates, previews), typed
 * from the APIs' OpenAPI documents (src/generated).
 */

import type { components as ServerComponents } from './generated/server';
import type { components as ServiceComponents } from './generated/service';

type ServerSchemas = ServerComponents['schemas'];
type ServiceSchemas = ServiceComponents['schemas'];

export type Role = 'viewer' | 'editor' | 'owner';

/** A project as the service answers it, plus the folder the server shows it in (when known). */
export type IProject = ServiceSchemas['Project'] & { path?: string };

export interface IMember {
  kind: 'user' | 'group';
  name: string;
  role: Role | string;
  /** a user JupyterHub does not know yet: the role takes effect at their first sign-in */
  pending?: boolean;
}

/** One event of a project's audit log. */
export type IAuditEvent = ServiceSchemas['AuditEvent'];

/** A public link of the project; `url` only when just made. */
export type ILink = ServiceSchemas['PublicLink'] & { url?: string };

export interface IFileEntry {
  path: string;
  name: string;
  type: 'file' | 'directory' | 'notebook';
  size?: number;
  last_modified?: string;
}

/** A template as the server extension lists it: metadata, `inputs` (the JSON Schema the server
 * validates values with) and `ui_schema`. */
export type ITemplate = ServerSchemas['TemplateSummary'];

/** A data preview (the service's Preview). */
export type IPreview = ServiceSchemas['Preview'];

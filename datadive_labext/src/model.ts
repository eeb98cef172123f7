/**
 * State of the Datadive panel and the actions on it. The React view (panel.tsx) renders it and
 * re-renders on `changed`; commands (index.ts) call the same methods.
 */
import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import { DatadiveClient, DatadiveError, IRenderedCell } from './api';
import { IKernelFrame, distinctValues, frameNamed, kernelColumns, levelInputs, preselectFiles, withChoices } from './formlogic';
import { IExpressionKernel, frameLevels, listFrames } from './kernelframes';
import { AssistantModel } from './assistantmodel';
import { DraftStore } from './drafts';
import { formSchema, pickersOf, schemaDefaults, variableDatasets } from './formschema';
import type { ProjectSort } from './projectlistlogic';
import type { IAuditEvent, IFileEntry, ILink, IMember, IPreview, IProject, ITemplate } from './types';

export type Page = 'projects' | 'project' | 'form';
export type ProjectTab = 'files' | 'templates' | 'members' | 'assistant' | 'environment';

export interface IEditTarget {
  /** Resolves the target cell again (the notebook may have changed meanwhile). */
  notebookPath: string;
  cellId: string;
}

export interface IUploadState {
  name: string;
  loaded: number;
  total: number;
  error?: string;
}

export interface ISettings {
  projectPath: string;
  sortProjects: ProjectSort;
  previewRows: number;
  syncPollSeconds: number;
  draftMaxAgeDays: number;
  prefetchProjects: boolean;
}

export const DEFAULT_SETTINGS: ISettings = {
  projectPath: '{name}',
  sortProjects: 'name',
  previewRows: 20,
  syncPollSeconds: 10,
  draftMaxAgeDays: 30,
  prefetchProjects: true
};

/** The settings in force: the registry's composite over the defaults (unknown keys ignored). */
export function resolveSettings(composite: Partial<Record<keyof ISettings, unknown>> | null | undefined): ISettings {
  const out: ISettings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof ISettings)[]) {
    const value = composite?.[key];
    if (value !== undefined && value !== null && typeof value === typeof DEFAULT_SETTINGS[key]) {
      (out as any)[key] = value;
    }
  }
  return out;
}

export class PanelModel {
  constructor(
    readonly client: DatadiveClient,
    readonly drafts: DraftStore,
    readonly user: string
  ) {}

  settings: ISettings = { ...DEFAULT_SETTINGS };

  /** The Assistant tab and the codebook editor (assistantmodel.ts). */
  readonly assistant = new AssistantModel(this);

  /**
   * Called after files were uploaded to a project through the service: lists the project's
   * folder through Lab's contents API, so the server's working copy pulls the new files and
   * kernels (and the file browser) see them at once. Set by the plugin.
   */
  onFilesChanged: ((project: IProject) => Promise<void>) | null = null;

  /**
   * Apply the settings registry's values: the draft store keeps drafts for `draftMaxAgeDays`
   * (older ones are removed now). Returns the settings that were in force before.
   */
  applySettings(composite: Partial<Record<keyof ISettings, unknown>> | null | undefined): ISettings {
    const before = this.settings;
    this.settings = resolveSettings(composite);
    this.drafts.maxAgeDays = this.settings.draftMaxAgeDays;
    this.drafts.prune();
    this.emit();
    return before;
  }

  page: Page = 'projects';
  tab: ProjectTab = 'files';
  error = '';
  busy = false;

  projects: IProject[] = [];
  projectsLoaded = false;
  deleted: IProject[] = [];
  filter = '';
  project: IProject | null = null;

  files: IFileEntry[] = [];
  notebooks: IFileEntry[] = [];
  members: IMember[] = [];
  links: ILink[] = [];
  /** The open project's audit log as far as loaded (owners), and where the next page starts. */
  audit: IAuditEvent[] = [];
  auditNext: number | null = null;
  preview: { path: string; data: IPreview } | null = null;
  upload: IUploadState | null = null;

  templates: ITemplate[] = [];
  templatesLoaded = false;
  /** The gallery came from the server's fallback (the template library did not answer). */
  templatesOffline = false;
  galleryQuery = '';
  galleryCategory = '';
  galleryTags: string[] = [];

  template: ITemplate | null = null;
  values: Record<string, unknown> = {};
  formErrors = 0;
  /** Columns per dataset input (or per "columns from" file for variable datasets). */
  columns: Record<string, string[]> = {};
  columnsFrom = '';
  editTarget: IEditTarget | null = null;
  /** Data frames of the notebook's running kernel (asked silently when a form opens). */
  frames: IKernelFrame[] = [];
  /** Why no frames are offered ('' when they are, or while asking). */
  framesNote = '';
  /** Values offered per `level` input (from the kernel frame or the file). */
  levels: Record<string, string[]> = {};
  /** The running kernel of the notebook cells are inserted into (set by the plugin). */
  kernel: (() => IExpressionKernel | null) | null = null;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  emit(): void {
    this._changed.emit();
  }

  setError(err: unknown): void {
    this.error = err ? (err instanceof Error ? err.message : String(err)) : '';
    this.emit();
  }

  /**
   * A failure beside the main action (which went on): shown in the banner at the top of the
   * panel, which stays until dismissed (a toast would vanish before it is read).
   */
  warn(message: string): void {
    this.error = message;
    console.warn(message);
    this.emit();
  }

  /** Why Insert cannot put cells into the current notebook (null: it can); set by the plugin. */
  insertBlocked: string | null = null;
  /** Offered beside a refused Insert when the notebook is read-only: save a copy elsewhere. */
  onSaveCopy: (() => void) | null = null;

  /** Run an action; a failure is shown with the server's message in the banner. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    // An earlier error stays in the banner until dismissed or replaced by a newer one.
    this.busy = true;
    this.emit();
    try {
      return await fn();
    } catch (err) {
      const message = `${what}: ${(err as Error).message}`;
      this.error = message;
      console.error(message, err);
      return undefined;
    } finally {
      this.busy = false;
      this.emit();
    }
  }

  // ---- projects -------------------------------------------------------------------------------

  async loadProjects(): Promise<void> {
    let deletedError = '';
    await this.run('Could not list projects', async () => {
      const [live, deleted] = await Promise.all([
        this.client.listProjects(),
        // The live list is shown even if "Recently deleted" cannot be read; that failure is
        // reported (with the server's message) once the live list is in.
        this.client.listProjects({ deleted: true }).catch(err => {
          deletedError = (err as Error).message;
          return null;
        })
      ]);
      this.projects = live.filter(p => !p.deleted);
      if (deleted) {
        this.deleted = deleted.filter(p => p.deleted);
      }
      this.projectsLoaded = true;
      if (this.project) {
        this.project = this.projects.find(p => p.id === this.project!.id) ?? null;
        if (!this.project && this.page !== 'form') {
          this.page = 'projects';
        }
      }
    });
    if (deletedError) {
      this.warn(`Could not list recently deleted projects: ${deletedError}`);
    }
  }

  async createProject(name: string): Promise<IProject | undefined> {
    const project = await this.run('Could not create the project', () => this.client.createProject(name.trim()));
    if (project) {
      Notification.success(`Project "${project.name}" created.`, { autoClose: 3000 });
      await this.loadProjects();
      this.tab = 'files'; // a new project starts on its Files tab, not the last one used
      await this.openProject(project.id);
    }
    return project;
  }

  async renameProject(project: IProject, name: string): Promise<void> {
    const renamed = await this.run('Could not rename the project', () => this.client.renameProject(project.id, name.trim()));
    if (renamed) {
      await this.loadProjects();
    }
  }

  async deleteProject(project: IProject): Promise<void> {
    const done = await this.run('Could not delete the project', async () => {
      await this.client.deleteProject(project.id);
      return true;
    });
    if (done) {
      if (this.project?.id === project.id) {
        this.project = null;
        this.page = 'projects';
      }
      Notification.info(`Project "${project.name}" deleted.`, {
        autoClose: 10000,
        actions: [{ label: 'Undo', callback: () => void this.restoreProject(project) }]
      });
      await this.loadProjects();
    }
  }

  async restoreProject(project: IProject): Promise<void> {
    const restored = await this.run('Could not restore the project', () => this.client.restoreProject(project.id));
    if (restored) {
      Notification.success(`Project "${project.name}" restored.`, { autoClose: 3000 });
      await this.loadProjects();
    }
  }

  async openProject(id: string): Promise<void> {
    const project = this.projects.find(p => p.id === id) ?? null;
    this.project = project;
    this.page = project ? 'project' : 'projects';
    this.preview = null;
    this.files = [];
    this.notebooks = [];
    this.members = [];
    this.links = [];
    this.audit = [];
    this.auditNext = null;
    this.emit();
    if (project) {
      // the tab shown must show its content at once (the Members tab listed nobody before)
      await Promise.all([
        this.loadProjectContent(),
        this.loadLinks(),
        this.tab === 'members' ? this.loadMembers() : Promise.resolve()
      ]);
    }
  }

  /**
   * Re-read the open project's role: another owner may have changed it (or removed the user)
   * while this panel is open. A new role is shown at once; a project the user lost goes back to
   * the list with a message. Other failures wait for the next call. Called by the plugin every
   * few seconds while a project is shown, and when the window gets the focus back.
   */
  async refreshRole(): Promise<void> {
    const project = this.project;
    if (!project) {
      return;
    }
    let role: IProject['role'];
    try {
      role = (await this.client.getProject(project.id)).role;
    } catch (err) {
      if (err instanceof DatadiveError && err.status === 404 && this.project?.id === project.id) {
        this.projects = this.projects.filter(p => p.id !== project.id);
        this.project = null;
        if (this.page === 'project') {
          this.page = 'projects';
        }
        this.warn(`You are no longer a member of "${project.name}"; ask its owner if you need it.`);
      }
      return;
    }
    if (this.project?.id !== project.id || role === project.role) {
      return;
    }
    const updated = { ...this.project, role };
    this.project = updated;
    this.projects = this.projects.map(p => (p.id === project.id ? updated : p));
    Notification.info(`Your role in "${project.name}" is now ${role}.`, { autoClose: 5000 });
    this.emit();
  }

  async loadProjectContent(): Promise<void> {
    const project = this.project;
    if (!project) {
      return;
    }
    let filesError = '';
    await this.run('Could not list the project', async () => {
      const [notebooks, files] = await Promise.all([
        this.client.listNotebooks(project.id),
        // The notebooks are shown even if the file listing fails; that failure (a 404 too:
        // the project's files should always be listable) is reported below with its message.
        this.client.listFiles(project.id).catch(err => {
          filesError = (err as Error).message;
          return null;
        })
      ]);
      this.notebooks = notebooks;
      const nbPaths = new Set(notebooks.map(n => n.path));
      // Hidden entries (".datadive-checkpoints/...", dot files) are storage internals.
      this.files = (files ?? []).filter(
        f => !f.path.split('/').some(seg => seg.startsWith('.')) && (f.type !== 'notebook' || !nbPaths.has(f.path))
      );
    });
    if (filesError) {
      this.warn(`Could not list the files of "${project.name}": ${filesError}`);
    }
  }

  async loadLinks(): Promise<void> {
    const project = this.project;
    if (project) {
      const links = await this.run('Could not list the public links', () => this.client.listLinks(project.id));
      if (links && this.project?.id === project.id) {
        this.links = links;
        this.emit();
      }
    }
  }

  /**
   * Publish a file or notebook of the open project as a public link; the answer carries the
   * absolute URL (shown only now: the service keeps no copy of it), or undefined on failure.
   */
  async publish(path: string, hideCode: boolean): Promise<ILink | undefined> {
    const project = this.project;
    if (!project) {
      return undefined;
    }
    const link = await this.run(`Could not publish "${path}"`, () => this.client.createLink(project.id, path, hideCode));
    if (link) {
      await this.loadLinks();
    }
    return link;
  }

  async revokeLink(link: ILink): Promise<void> {
    const project = this.project;
    if (!project) {
      return;
    }
    const done = await this.run(`Could not revoke the link to "${link.path}"`, async () => {
      await this.client.deleteLink(project.id, link.id);
      return true;
    });
    if (done) {
      Notification.success(`The public link to "${link.path}" is withdrawn.`, { autoClose: 3000 });
      await this.loadLinks();
    }
  }

  async loadMembers(): Promise<void> {
    const project = this.project;
    if (project) {
      const members = await this.run('Could not list members', () => this.client.listMembers(project.id));
      if (members) {
        this.members = members;
        this.emit();
      }
      if (project.role === 'owner') {
        await this.loadAudit();
      }
    }
  }

  /** The open project's audit log (owners only): the newest page, or with `more` the next. */
  async loadAudit(more = false): Promise<void> {
    const project = this.project;
    if (!project || (more && this.auditNext === null)) {
      return;
    }
    const before = more ? (this.auditNext ?? undefined) : undefined;
    const page = await this.run('Could not read the activity log', () => this.client.listAudit(project.id, before));
    if (page && this.project?.id === project.id) {
      this.audit = more ? [...this.audit, ...page.events] : page.events;
      this.auditNext = page.next;
      this.emit();
    }
  }

  async addMember(member: IMember): Promise<boolean> {
    const project = this.project;
    if (!project) {
      return false;
    }
    const ok = await this.run(`Could not add ${member.kind} "${member.name}"`, async () => {
      await this.client.addMember(project.id, member);
      return true;
    });
    await this.loadMembers();
    return !!ok;
  }

  async setMemberRole(member: IMember): Promise<void> {
    const project = this.project;
    if (project) {
      await this.run(`Could not change the role of "${member.name}"`, () => this.client.setMemberRole(project.id, member));
      await this.loadMembers();
    }
  }

  async removeMember(member: IMember): Promise<void> {
    const project = this.project;
    if (project) {
      await this.run(`Could not remove "${member.name}"`, () => this.client.removeMember(project.id, member));
      await this.loadMembers();
    }
  }

  /** The folder of a project in the Jupyter server's file tree. */
  projectFolder(project: IProject): string {
    if (typeof project.path === 'string' && project.path) {
      return project.path;
    }
    return this.settings.projectPath.replace('{name}', project.name).replace('{id}', project.id);
  }

  async createNotebook(name: string): Promise<any> {
    const project = this.project;
    if (!project) {
      return undefined;
    }
    const nb = await this.run('Could not create the notebook', () => this.client.createNotebook(project.id, name));
    if (nb) {
      await this.loadProjectContent();
    }
    return nb;
  }

  async uploadFiles(files: File[]): Promise<void> {
    const project = this.project;
    if (!project) {
      return;
    }
    for (const file of files) {
      this.upload = { name: file.name, loaded: 0, total: file.size };
      this.emit();
      try {
        await this.client.upload(project.id, file.name, file, (loaded, total) => {
          this.upload = { name: file.name, loaded, total };
          this.emit();
        });
        Notification.success(`Uploaded "${file.name}".`, { autoClose: 3000 });
        this.upload = null;
      } catch (err) {
        const message = `Could not upload "${file.name}": ${(err as Error).message}`;
        this.upload = { name: file.name, loaded: 0, total: file.size, error: message };
        this.error = message;
        this.emit();
        return;
      }
    }
    await this.loadProjectContent();
    if (this.onFilesChanged) {
      try {
        await this.onFilesChanged(project);
      } catch (err) {
        this.warn(
          `Uploaded, but the folder "${this.projectFolder(project)}" could not be refreshed, so a kernel may not see the new file yet: ${(err as Error).message}`
        );
      }
    }
  }

  /** Opens the Versions tab of a project's file (set by the plugin: history.tsx). */
  openVersions: ((project: IProject, path: string) => void) | null = null;

  /** Opens the preview tab of a project's file (set by the plugin: previewgrid.tsx). */
  openPreview: ((projectId: string, path: string) => void) | null = null;

  async showPreview(path: string): Promise<void> {
    const project = this.project;
    if (!project) {
      return;
    }
    if (this.openPreview) {
      this.openPreview(project.id, path);
      return;
    }
    const data = await this.run(`Could not preview "${path}"`, () =>
      this.client.preview(project.id, path, this.settings.previewRows)
    );
    if (data) {
      this.preview = { path, data };
      this.emit();
    }
  }

  // ---- templates ------------------------------------------------------------------------------

  async loadTemplates(): Promise<void> {
    await this.run('Could not list templates', async () => {
      const list = await this.client.listTemplates();
      this.templates = list;
      this.templatesOffline = Boolean(list.offline);
      this.templatesLoaded = true;
    });
  }

  /** Open the form of a template: values from (in order) `values`, the saved draft, defaults. */
  async openForm(templateId: string, opts: { version?: string | number; values?: Record<string, unknown>; edit?: IEditTarget } = {}): Promise<void> {
    let template = this.templates.find(t => t.id === templateId && (opts.version === undefined || String(t.version) === String(opts.version)));
    const full = await this.run(`Could not open template "${templateId}"`, () => this.client.getTemplate(templateId, opts.version === undefined ? undefined : String(opts.version)));
    if (full) {
      template = full;
    }
    if (!template) {
      return;
    }
    this.template = template;
    this.editTarget = opts.edit ?? null;
    const draft = opts.edit ? null : this.drafts.load(this.project?.id ?? null, template.id);
    const values = { ...schemaDefaults(template.inputs), ...(draft?.values ?? {}), ...(opts.values ?? {}) };
    // a project's only data file is the obvious choice for an empty file input
    const files = this.files.filter(f => f.type === 'file').map(f => f.path);
    this.values = opts.edit ? values : preselectFiles(template.inputs, template.ui_schema, values, files);
    this.columns = {};
    this.levels = {};
    this.page = 'form';
    this.emit();
    await this.refreshFrames();
    await this.refreshColumns();
  }

  /** Ask the notebook's kernel (silently) which data frames it holds. */
  async refreshFrames(): Promise<void> {
    const kernel = this.kernel?.() ?? null;
    if (!kernel) {
      this.frames = [];
      this.framesNote = 'No running kernel: open the notebook and run its cells to offer its data frames here.';
      this.emit();
      return;
    }
    try {
      this.frames = await listFrames(kernel);
      this.framesNote = this.frames.length ? '' : 'The notebook holds no data frame yet: run the cell that loads your data.';
    } catch (err) {
      this.frames = [];
      this.framesNote = `Could not ask the kernel for its data frames: ${(err as Error).message}`;
    }
    this.emit();
  }

  closeForm(): void {
    this.template = null;
    this.editTarget = null;
    this.page = this.project ? 'project' : 'projects';
    this.emit();
  }

  setValues(values: Record<string, unknown>, errors: number): void {
    const before = this.values;
    this.values = values;
    this.formErrors = errors;
    if (this.template && !this.editTarget) {
      this.drafts.save({ template: this.template.id, version: this.template.version, project: this.project?.id ?? null, values });
    }
    // A changed dataset choice refills the column pickers; a changed column, the level values.
    const pickers = this.template ? pickersOf(this.template.inputs, this.template.ui_schema) : {};
    const datasets = new Set(Object.values(pickers).flatMap(p => (p.kind === 'column' && p.dataset ? [p.dataset] : [])));
    if ([...datasets].some(d => before[d] !== values[d])) {
      void this.refreshColumns();
    } else if (this.template && levelInputs(this.template.inputs).some(l => before[l.column] !== values[l.column] || (l.dataset && before[l.dataset] !== values[l.dataset]))) {
      void this.refreshLevels();
    }
    this.emit();
  }

  discardDraft(): void {
    if (this.template) {
      this.drafts.discard(this.project?.id ?? null, this.template.id);
      this.values = schemaDefaults(this.template.inputs);
      this.emit();
    }
  }

  setColumnsFrom(path: string): void {
    this.columnsFrom = path;
    void this.refreshColumns();
  }

  /** Fill column pickers from a preview of the chosen dataset (file input, or "columns from"). */
  async refreshColumns(): Promise<void> {
    const template = this.template;
    const project = this.project;
    if (!template || !project) {
      return;
    }
    const pickers = pickersOf(template.inputs, template.ui_schema);
    const varDatasets = variableDatasets(template.inputs, template.ui_schema);
    // a variable dataset naming one of the kernel's data frames takes that frame's columns
    const columns: Record<string, string[]> = kernelColumns(template.inputs, template.ui_schema, this.values, this.frames);
    for (const p of Object.values(pickers)) {
      if (p.kind !== 'column' || !p.dataset || p.dataset in columns) {
        continue;
      }
      const path = varDatasets.includes(p.dataset) ? this.columnsFrom : (this.values[p.dataset] as string);
      if (typeof path === 'string' && path && !(p.dataset in columns)) {
        try {
          const preview = await this.client.preview(project.id, path, 1);
          columns[p.dataset] = preview.columns.map(c => c.name);
        } catch (err) {
          this.setError(`Could not read the columns of "${path}": ${(err as Error).message}`);
        }
      }
    }
    this.columns = columns;
    this.emit();
    await this.refreshLevels();
  }

  /** Values of the columns chosen for `level` inputs: from the kernel frame, else the file. */
  async refreshLevels(): Promise<void> {
    const template = this.template;
    const project = this.project;
    if (!template) {
      return;
    }
    const levels: Record<string, string[]> = {};
    const varDatasets = variableDatasets(template.inputs, template.ui_schema);
    for (const level of levelInputs(template.inputs)) {
      const column = this.values[level.column];
      if (typeof column !== 'string' || !column) {
        continue;
      }
      const dsValue = level.dataset ? this.values[level.dataset] : undefined;
      const frame = frameNamed(this.frames, dsValue);
      const kernel = this.kernel?.() ?? null;
      try {
        if (frame && kernel) {
          levels[level.name] = await frameLevels(kernel, frame.name, column);
          continue;
        }
        const path = level.dataset && !varDatasets.includes(level.dataset) ? dsValue : this.columnsFrom;
        if (project && typeof path === 'string' && path) {
          const preview = await this.client.preview(project.id, path, 1000);
          levels[level.name] = distinctValues(preview.columns, preview.rows, column);
        }
      } catch (err) {
        this.setError(`Could not read the values of "${column}": ${(err as Error).message}`);
      }
    }
    this.levels = levels;
    this.emit();
  }

  /** The schema the form shows right now. */
  currentSchema(): any {
    if (!this.template) {
      return {};
    }
    const files = this.files.filter(f => f.type === 'file').map(f => f.path);
    const base = formSchema(this.template.inputs, this.template.ui_schema, { files, columns: this.columns });
    return withChoices(base, this.template.inputs, this.template.ui_schema, this.values, this.frames, this.levels);
  }

  async render(): Promise<{ cells: IRenderedCell[] } | undefined> {
    const template = this.template;
    if (!template) {
      return undefined;
    }
    return this.run('Could not render the template', async () => {
      const cells = await this.client.renderCells(template.id, template.version, this.values, this.project?.id ?? null);
      return { cells };
    });
  }

  private _changed = new Signal<this, void>(this);
}

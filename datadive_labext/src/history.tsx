/**
 * History of a project's files in the panel (issue 13): the Versions tab of a file (every
 * version, newest first, paged, with its time, author and size), a version opened read-only in
 * its own tab (a notebook rendered with Lab's rendermime, text as text, images shown), two
 * versions of a notebook compared cell by cell (nbdime, computed by the server extension),
 * restoring a version (rolls forward), and "Recently deleted" in the Files tab.
 * Pure logic is in historylogic.ts, the calls in historyapi.ts.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, Notification, ReactWidget } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { OutputAreaModel, SimplifiedOutputArea } from '@jupyterlab/outputarea';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { DatadiveError } from './api';
import { HistoryClient } from './historyapi';
import {
  IDiffCell,
  IDiffOutput,
  INotebookDiff,
  ITrashEntry,
  IVersion,
  appendVersions,
  authorText,
  baseName,
  cellLabel,
  changedPartsText,
  compareTitle,
  comparePair,
  diffHeadline,
  formatWhen,
  imageMime,
  projectOfPath,
  outputPairs,
  restoreQuestion,
  sameOutput,
  shownText,
  tabId,
  toggleChoice,
  trashRestoreError,
  versionTitle,
  viewerKind
} from './historylogic';
import { formatBytes } from './format';
import { canEdit } from './roles';
import type { IProject } from './types';
import type { PanelModel } from './model';

/** What the history views need from Lab (set up in index.ts). */
export interface IHistoryHost {
  addToMain(widget: Widget): void;
  activate(id: string): void;
  rendermime: IRenderMimeRegistry | null;
  confirm(title: string, body: string, ok: string): Promise<boolean>;
  /** Whether the document at a Lab path is open ('dirty': with unsaved changes). */
  openState(labPath: string): 'closed' | 'open' | 'dirty';
  /** Reload an open document from the store (after a restore). */
  reload(labPath: string): Promise<void>;
}

/** A file of a project, as the history views address it. */
export interface IHistoryFile {
  project: IProject;
  /** The path inside the project. */
  path: string;
  /** The path in Lab's file browser. */
  labPath: string;
  editable: boolean;
}

/** A React view re-rendered on `update()`. */
class View extends ReactWidget {
  constructor(private readonly draw: () => JSX.Element) {
    super();
  }

  render(): JSX.Element {
    return this.draw();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- the Versions tab -------------------------------------------------------------------------

/** The Versions tab of one file: a page at a time, newest first; open, compare, restore. */
export class VersionsView extends ReactWidget {
  constructor(
    readonly opener: HistoryOpener,
    readonly file: IHistoryFile
  ) {
    super();
    this.addClass('dd-Versions');
  }

  versions: IVersion[] = [];
  next: string | null = null;
  loading = false;
  loaded = false;
  error = '';
  chosen: string[] = [];

  /** Read the first page again (after a restore, or Refresh). */
  async reload(): Promise<void> {
    this.versions = [];
    this.next = null;
    this.chosen = [];
    await this.more();
  }

  /** Read the next page. */
  async more(): Promise<void> {
    this.loading = true;
    this.update();
    try {
      const page = await this.opener.api.versions(this.file.project.id, this.file.path, this.next);
      this.versions = appendVersions(this.versions, page.versions);
      this.next = page.next;
      this.error = '';
    } catch (err) {
      this.error = `Could not list the versions of "${this.file.path}": ${message(err)}`;
    } finally {
      this.loading = false;
      this.loaded = true;
      this.update();
    }
  }

  private async restore(v: IVersion): Promise<void> {
    const { path, labPath } = this.file;
    const state = this.opener.host.openState(labPath);
    const body =
      restoreQuestion(path, v) +
      (state === 'dirty' ? ' The open document has unsaved changes: they are replaced by the restored version.' : '') +
      (state !== 'closed' ? ' The open document reloads.' : '');
    if (!(await this.opener.host.confirm('Restore this version?', body, 'Restore'))) {
      return;
    }
    try {
      await this.opener.api.restoreVersion(this.file.project.id, path, v.version_id);
    } catch (err) {
      this.error = `Could not restore "${path}": ${message(err)}`;
      this.update();
      return;
    }
    let note = '';
    if (state !== 'closed') {
      try {
        await this.opener.host.reload(labPath);
        note = ' The open document was reloaded.';
      } catch (err) {
        note = ` Close and reopen the document to see it (it could not be reloaded: ${message(err)}).`;
      }
    }
    Notification.success(`Restored "${baseName(path)}" to the version of ${formatWhen(v.last_modified)}.${note}`, { autoClose: 5000 });
    await this.reload();
  }

  render(): JSX.Element {
    const { path } = this.file;
    const notebook = viewerKind(path) === 'notebook';
    const pair = comparePair(this.chosen, this.versions);
    const current = this.versions.find(v => v.is_current);
    return (
      <div className="dd-VersionsBody">
        <div className="dd-HistoryHeader">
          <h2 className="dd-HistoryTitle">Versions of {path}</h2>
          <span className="dd-Muted">{this.file.project.name} · newest first</span>
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => void this.reload()} disabled={this.loading}>
            Refresh
          </button>
        </div>
        {this.error && (
          <div className="dd-Error" role="alert">
            {this.error}
          </div>
        )}
        {notebook && (
          <div className="dd-Row dd-CompareBar">
            <span className="dd-Muted">Tick two versions to compare them cell by cell.</span>
            <button
              className="jp-Button jp-mod-styled jp-mod-accept dd-Button"
              disabled={!pair}
              onClick={() => pair && this.opener.compare(this.file, pair[0], pair[1])}
            >
              Compare the two ticked
            </button>
          </div>
        )}
        <table className="dd-VersionTable" aria-label={`Versions of ${path}`}>
          <thead>
            <tr>
              {notebook && <th scope="col">Compare</th>}
              <th scope="col">Saved</th>
              <th scope="col">Author</th>
              <th scope="col">Size</th>
              <th scope="col">
                <span className="dd-VisuallyHidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {this.versions.map(v => {
              const when = formatWhen(v.last_modified);
              return (
                <tr key={v.version_id} className={`dd-Version${v.is_current ? ' dd-mod-current' : ''}`} data-version-id={v.version_id}>
                  {notebook && (
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Compare the version of ${when}`}
                        checked={this.chosen.includes(v.version_id)}
                        onChange={() => {
                          this.chosen = toggleChoice(this.chosen, v.version_id);
                          this.update();
                        }}
                      />
                    </td>
                  )}
                  <td>
                    <time dateTime={v.last_modified ?? undefined}>{when}</time>
                    {v.is_current && <span className="dd-CurrentBadge">current</span>}
                    {v.path && v.path !== this.file.path && <span className="dd-Muted"> as {v.path}</span>}
                  </td>
                  <td>{authorText(v.author)}</td>
                  <td>{formatBytes(v.size)}</td>
                  <td className="dd-VersionActions">
                    <button className="dd-Link" onClick={() => this.opener.openVersion(this.file, v)} aria-label={`Open the version of ${when} read-only`}>
                      Open
                    </button>
                    {notebook && !v.is_current && current && (
                      <button className="dd-Link" onClick={() => this.opener.compare(this.file, v, current)} aria-label={`Compare the version of ${when} with the current one`}>
                        Compare with current
                      </button>
                    )}
                    {this.file.editable && !v.is_current && (
                      <button className="dd-Link" onClick={() => void this.restore(v)} aria-label={`Restore the version of ${when}`}>
                        Restore
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {this.loaded && !this.versions.length && !this.error && <p className="dd-Muted">No versions of this file are stored.</p>}
        {this.loading && <p className="dd-Muted">Loading versions…</p>}
        {this.next && !this.loading && (
          <button className="jp-Button jp-mod-styled dd-Button dd-LoadMore" onClick={() => void this.more()}>
            Load more
          </button>
        )}
      </div>
    );
  }
}

// ---- one version, read-only -------------------------------------------------------------------

/** One version of a file, read-only: a notebook rendered cell by cell, text, or an image. */
export class VersionViewer extends Panel {
  constructor(
    readonly opener: HistoryOpener,
    readonly file: IHistoryFile,
    readonly version: IVersion
  ) {
    super();
    this.addClass('dd-VersionViewer');
    const banner = new View(() => (
      <div className="dd-ReadOnlyBanner" role="note">
        <strong>Read-only:</strong> the version of {formatWhen(version.last_modified)} by {authorText(version.author)}
        {version.is_current ? ' (the current one)' : ''}, {formatBytes(version.size)}.
        {file.editable && !version.is_current && ' Restore it from the Versions tab.'}
      </div>
    ));
    this.addWidget(banner);
    this.body = new Panel();
    this.body.addClass('dd-VersionContent');
    this.addWidget(this.body);
  }

  readonly body: Panel;

  private note(text: string, alert = false): void {
    const p = document.createElement('p');
    p.className = alert ? 'dd-Error' : 'dd-Muted';
    if (alert) {
      p.setAttribute('role', 'alert');
    }
    p.textContent = text;
    this.body.node.appendChild(p);
  }

  async load(): Promise<void> {
    const { project, path } = this.file;
    const kind = viewerKind(path);
    if (kind === 'other') {
      this.note(`This kind of file cannot be shown here; restore the version to open it in Lab.`);
      return;
    }
    let blob: Blob;
    try {
      blob = await this.opener.api.read(project.id, path, this.version.version_id);
    } catch (err) {
      this.note(`Could not read this version: ${message(err)}`, true);
      return;
    }
    if (kind === 'image') {
      const img = document.createElement('img');
      img.className = 'dd-VersionImage';
      img.alt = `${baseName(path)}, the version of ${formatWhen(this.version.last_modified)}`;
      img.src = URL.createObjectURL(new Blob([blob], { type: imageMime(path) }));
      this.disposed.connect(() => URL.revokeObjectURL(img.src));
      this.body.node.appendChild(img);
      return;
    }
    const text = await blob.text();
    if (kind === 'notebook') {
      let nb: any;
      try {
        nb = JSON.parse(text);
      } catch (err) {
        this.note(`This version is not a readable notebook (${message(err)}); it is shown as text.`, true);
      }
      if (nb && Array.isArray(nb.cells)) {
        await this.renderNotebook(nb);
        return;
      }
    }
    const pre = document.createElement('pre');
    pre.className = 'dd-VersionText';
    pre.textContent = shownText(text);
    this.body.node.appendChild(pre);
  }

  /** Cells in order: markdown rendered, code as text with its outputs (untrusted: sanitized). */
  private async renderNotebook(nb: any): Promise<void> {
    const rendermime = this.opener.host.rendermime;
    for (const [i, cell] of (nb.cells as any[]).entries()) {
      const source = Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? '');
      const box = new Panel();
      box.addClass('dd-VersionCell');
      box.addClass(`dd-VersionCell-${cell.cell_type}`);
      box.node.dataset.cellIndex = String(i);
      if (cell.cell_type === 'markdown' && rendermime) {
        const renderer = rendermime.createRenderer('text/markdown');
        await renderer.renderModel(new MimeModel({ data: { 'text/markdown': source }, trusted: false }));
        box.addWidget(renderer);
      } else {
        const input = new Widget({ node: document.createElement('div') });
        input.addClass('dd-VersionInput');
        const prompt = document.createElement('div');
        prompt.className = 'dd-VersionPrompt';
        prompt.textContent = cell.cell_type === 'code' ? `[${cell.execution_count ?? ' '}]:` : '';
        const pre = document.createElement('pre');
        pre.textContent = source;
        input.node.append(prompt, pre);
        box.addWidget(input);
      }
      if (cell.cell_type === 'code' && rendermime && Array.isArray(cell.outputs) && cell.outputs.length) {
        const model = new OutputAreaModel({ values: cell.outputs, trusted: false });
        const outputs = new SimplifiedOutputArea({ model, rendermime });
        outputs.addClass('dd-VersionOutputs');
        box.addWidget(outputs);
      }
      this.body.addWidget(box);
    }
    if (!nb.cells.length) {
      this.note('This version of the notebook has no cells.');
    }
  }
}

// ---- two versions of a notebook compared ------------------------------------------------------

function OutputView({ output, side }: { output: IDiffOutput | null; side: 'before' | 'after' }): JSX.Element {
  if (!output) {
    return <div className="dd-DiffOutput dd-mod-none dd-Muted">(no output)</div>;
  }
  return (
    <div className={`dd-DiffOutput dd-mod-${side}`}>
      {output.image && <img className="dd-DiffImage" alt={`image output, ${side}`} src={`data:${output.image.mime};base64,${output.image.data}`} />}
      {output.text !== null && !output.image && <pre className="dd-DiffOutputText">{output.text}</pre>}
      {output.text !== null && output.image && <div className="dd-Muted">{output.text}</div>}
    </div>
  );
}

function DiffCellView({ cell }: { cell: IDiffCell }): JSX.Element {
  const label = cellLabel(cell);
  if (cell.status === 'unchanged') {
    return (
      <li className="dd-DiffCell dd-mod-unchanged" data-status="unchanged">
        <span className="dd-DiffCellLabel">{label}</span> <span className="dd-Muted">unchanged</span>{' '}
        <code className="dd-DiffFirstLine">{cell.first_line}</code>
      </li>
    );
  }
  return (
    <li className={`dd-DiffCell dd-mod-${cell.status}`} data-status={cell.status} aria-label={`${label}: ${changedPartsText(cell)}`}>
      <div className="dd-DiffCellHeader">
        <span className="dd-DiffCellLabel">{label}</span>
        <span className={`dd-DiffBadge dd-mod-${cell.status}`}>{changedPartsText(cell)}</span>
      </div>
      {cell.source && !cell.source.length && <div className="dd-Muted">(an empty cell)</div>}
      {cell.source && cell.source.length > 0 && (
        <pre className="dd-DiffSource" aria-label={`Code of ${label}`}>
          {cell.source.map((line, i) => (
            <div key={i} className={`dd-DiffLine dd-mod-${line.op === '+' ? 'added' : line.op === '-' ? 'removed' : 'same'}`}>
              <span className="dd-DiffOp" aria-hidden="true">
                {line.op}
              </span>
              <span className="dd-VisuallyHidden">{line.op === '+' ? 'added: ' : line.op === '-' ? 'removed: ' : ''}</span>
              {line.text.replace(/\n$/, '')}
            </div>
          ))}
        </pre>
      )}
      {cell.outputs && (
        <div className="dd-DiffOutputs" role="group" aria-label={`Outputs of ${label}, before and after`}>
          <div className="dd-DiffOutputsHead">
            <span>Before</span>
            <span>After</span>
          </div>
          {outputPairs(cell.outputs).map(([before, after], i) => (
            <div key={i} className={`dd-DiffOutputPair${sameOutput(before, after) ? ' dd-mod-same' : ''}`}>
              <OutputView output={before} side="before" />
              <OutputView output={after} side="after" />
            </div>
          ))}
        </div>
      )}
    </li>
  );
}

/** Two versions of a notebook compared cell by cell. */
export class DiffView extends ReactWidget {
  constructor(
    readonly opener: HistoryOpener,
    readonly file: IHistoryFile,
    readonly older: IVersion,
    readonly newer: IVersion
  ) {
    super();
    this.addClass('dd-DiffView');
  }

  diff: INotebookDiff | null = null;
  error = '';
  showUnchanged = false;

  async load(): Promise<void> {
    try {
      this.diff = await this.opener.api.compare(
        this.file.project.id,
        this.file.path,
        this.older.version_id,
        this.newer.is_current ? undefined : this.newer.version_id
      );
    } catch (err) {
      const status = err instanceof DatadiveError ? err.status : 0;
      this.error = status === 413 ? message(err) : `Could not compare the two versions: ${message(err)}`;
    }
    this.update();
  }

  render(): JSX.Element {
    const { older, newer, diff } = this;
    const cells = diff ? diff.cells.filter(c => this.showUnchanged || c.status !== 'unchanged') : [];
    return (
      <div className="dd-DiffBody">
        <div className="dd-HistoryHeader">
          <h2 className="dd-HistoryTitle">{this.file.path}</h2>
          <span className="dd-Muted">
            <span className="dd-DiffLegend dd-mod-removed">{formatWhen(older.last_modified)}</span> ({authorText(older.author)}) →{' '}
            <span className="dd-DiffLegend dd-mod-added">{newer.is_current ? 'current' : formatWhen(newer.last_modified)}</span> ({authorText(newer.author)})
          </span>
        </div>
        {this.error && (
          <div className="dd-Error" role="alert">
            {this.error}
          </div>
        )}
        {!diff && !this.error && <p className="dd-Muted">Comparing…</p>}
        {diff && (
          <>
            <div className="dd-Row">
              <strong className="dd-DiffHeadline">{diffHeadline(diff.counts)}</strong>
              {diff.counts.unchanged > 0 && (
                <label className="dd-DiffToggle">
                  <input
                    type="checkbox"
                    checked={this.showUnchanged}
                    onChange={() => {
                      this.showUnchanged = !this.showUnchanged;
                      this.update();
                    }}
                  />{' '}
                  Show unchanged cells
                </label>
              )}
            </div>
            {diff.notebook_parts.includes('metadata') && <p className="dd-Muted">The notebook's metadata changed too.</p>}
            <ol className="dd-DiffCells">
              {cells.map((c, i) => (
                <DiffCellView key={i} cell={c} />
              ))}
            </ol>
          </>
        )}
      </div>
    );
  }
}

// ---- opening the views ------------------------------------------------------------------------

/** Opens (or brings forward) the history tabs; one per file / version / pair. */
export class HistoryOpener {
  constructor(
    readonly api: HistoryClient,
    readonly host: IHistoryHost
  ) {}

  private open = new Map<string, MainAreaWidget>();

  private show<T extends Widget>(id: string, make: () => T, label: string, caption: string, load?: (w: T) => Promise<void>): MainAreaWidget<T> {
    const existing = this.open.get(id);
    if (existing && !existing.isDisposed) {
      this.host.activate(id);
      return existing as MainAreaWidget<T>;
    }
    const content = make();
    const widget = new MainAreaWidget({ content });
    widget.id = id;
    widget.title.label = label;
    widget.title.caption = caption;
    widget.title.closable = true;
    widget.addClass('dd-HistoryTab');
    this.open.set(id, widget);
    widget.disposed.connect(() => this.open.delete(id));
    this.host.addToMain(widget);
    this.host.activate(id);
    if (load) {
      void load(content);
    }
    return widget;
  }

  /** The Versions tab of a file (read again when already open). */
  versions(file: IHistoryFile): void {
    const id = tabId('versions', file.project.id, file.path);
    const existed = this.open.has(id);
    const w = this.show(id, () => new VersionsView(this, file), `Versions: ${baseName(file.path)}`, `Versions of ${file.path} in ${file.project.name}`, v =>
      v.reload()
    );
    if (existed) {
      void w.content.reload();
    }
  }

  openVersion(file: IHistoryFile, v: IVersion): void {
    const title = versionTitle(file.path, v);
    this.show(tabId('version', file.project.id, file.path, v.version_id), () => new VersionViewer(this, file, v), title, `${file.path}: ${title} (read-only)`, w =>
      w.load()
    );
  }

  compare(file: IHistoryFile, older: IVersion, newer: IVersion): void {
    const title = compareTitle(file.path, older, newer);
    this.show(
      tabId('compare', file.project.id, file.path, older.version_id, newer.version_id),
      () => new DiffView(this, file, older, newer),
      `Compare ${title}`,
      `${file.path}: the version of ${formatWhen(older.last_modified)} compared with ${newer.is_current ? 'the current one' : formatWhen(newer.last_modified)}`,
      w => w.load()
    );
  }
}

// ---- "Recently deleted" in the Files tab ------------------------------------------------------

/** The project's trash, in the panel's Files tab: a page at a time, each with Restore (read when
 * opened; rendered with the project's id as key, so another project starts closed and empty). */
export function TrashSection({ model, project, editable }: { model: PanelModel; project: IProject; editable: boolean }): JSX.Element {
  const api = React.useMemo(() => new HistoryClient(model.client), [model.client]);
  const [entries, setEntries] = React.useState<ITrashEntry[]>([]);
  const [next, setNext] = React.useState<string | null>(null);
  const [state, setState] = React.useState<'idle' | 'loading' | 'loaded'>('idle');
  const [error, setError] = React.useState('');
  const load = async (more: boolean) => {
    setState('loading');
    try {
      const page = await api.trash(project.id, more ? next : null);
      setEntries(more ? [...entries, ...page.trash.filter(t => !entries.some(e => e.id === t.id))] : page.trash);
      setNext(page.next);
      setError('');
    } catch (err) {
      setError(`Could not list the recently deleted files: ${message(err)}`);
    }
    setState('loaded');
  };
  const restore = async (entry: ITrashEntry) => {
    try {
      await api.restoreFromTrash(project.id, entry.path);
    } catch (err) {
      setError(trashRestoreError(entry.path, err instanceof DatadiveError ? err.status : 0, message(err)));
      return;
    }
    Notification.success(`Restored "${entry.path}".`, { autoClose: 4000 });
    await model.loadProjectContent();
    await model.onFilesChanged?.(project).catch(() => undefined);
    await load(false);
  };
  return (
    <details
      className="dd-Trash"
      onToggle={e => {
        if ((e.currentTarget as HTMLDetailsElement).open) {
          void load(false);
        }
      }}
    >
      <summary>Recently deleted</summary>
      {error && (
        <div className="dd-Error" role="alert">
          <span>{error}</span>
          <button className="dd-Link" onClick={() => setError('')} aria-label="Dismiss the error">
            Dismiss
          </button>
        </div>
      )}
      {state === 'loading' && !entries.length && <p className="dd-Muted">Loading…</p>}
      {state === 'loaded' && !entries.length && !error && <p className="dd-Muted">Nothing was deleted from this project.</p>}
      <ul className="dd-List" aria-label="Recently deleted files">
        {entries.map(t => (
          <li key={t.id} className="dd-Item dd-TrashEntry">
            <span className="dd-TrashText">
              <span className="dd-ItemName">
                {t.path}
                {t.kind === 'folder' ? '/' : ''}
              </span>
              <span className="dd-Muted dd-TrashWhen">
                {t.kind === 'folder' ? `${t.files} files, ` : ''}deleted {formatWhen(t.deleted_at)}
                {t.deleted_by ? ` by ${t.deleted_by}` : ''}
              </span>
            </span>
            {editable && (
              <button className="dd-Link" onClick={() => void restore(t)} aria-label={`Restore ${t.path}`}>
                Restore
              </button>
            )}
          </li>
        ))}
      </ul>
      {next && (
        <button className="dd-Link" onClick={() => void load(true)} disabled={state === 'loading'}>
          Load more
        </button>
      )}
    </details>
  );
}

// ---- wiring into Lab --------------------------------------------------------------------------

export const VERSIONS_COMMAND = 'datadive:versions';

/** A document open in the main area at a Lab path (its context), if any. */
function openContext(app: JupyterFrontEnd, labPath: string): DocumentRegistry.Context | null {
  for (const w of app.shell.widgets('main')) {
    const context = (w as any).context as DocumentRegistry.Context | undefined;
    if (context && context.path === labPath) {
      return context;
    }
  }
  return null;
}

/**
 * The history views for the panel (model.openVersions) and the file browser's context menu
 * ("Versions (Datadive)" on a file of a project). Returns the command id for the palette.
 */
export function registerHistory(
  app: JupyterFrontEnd,
  model: PanelModel,
  rendermime: IRenderMimeRegistry | null,
  fileBrowser: IDefaultFileBrowser | null,
  confirm: (title: string, body: string, ok: string) => Promise<boolean>
): string {
  const opener = new HistoryOpener(new HistoryClient(model.client), {
    addToMain: w => app.shell.add(w, 'main'),
    activate: id => app.shell.activateById(id),
    rendermime,
    confirm,
    openState: labPath => {
      const context = openContext(app, labPath);
      return !context ? 'closed' : context.model.dirty ? 'dirty' : 'open';
    },
    reload: async labPath => {
      const context = openContext(app, labPath);
      if (context) {
        await context.revert();
        context.model.dirty = false; // what it shows is what is stored (revert leaves it dirty)
      }
    }
  });
  const fileOf = (project: IProject, path: string): IHistoryFile => ({
    project,
    path,
    labPath: `${model.projectFolder(project)}/${path}`,
    editable: canEdit(project.role as string)
  });
  model.openVersions = (project, path) => opener.versions(fileOf(project, path));

  const selected = (): string | null => {
    const item = fileBrowser?.selectedItems().next();
    return item && !item.done && item.value.type !== 'directory' ? item.value.path : null;
  };
  app.commands.addCommand(VERSIONS_COMMAND, {
    label: 'Versions (Datadive)',
    caption: 'Every stored version of this file: open one read-only, compare, restore',
    isVisible: () => selected() !== null,
    execute: async args => {
      const labPath = (args.path as string | undefined) ?? selected();
      if (!labPath) {
        return;
      }
      if (!model.projectsLoaded) {
        await model.loadProjects();
      }
      const found = projectOfPath(labPath, model.projects, p => model.projectFolder(p));
      if (!found) {
        Notification.warning(`"${labPath}" is not in a Datadive project: only project files have versions.`, { autoClose: 5000 });
        return;
      }
      model.openVersions?.(found.project, found.path);
    }
  });
  app.contextMenu.addItem({ command: VERSIONS_COMMAND, selector: '.jp-DirListing-item[data-isdir="false"]', rank: 60 });
  return VERSIONS_COMMAND;
}

/**
 * The Datadive sidebar: projects → a project (files, templates, members) → a template form.
 * Plain buttons, inputs and lists with labels, so everything works with the keyboard and a
 * screen reader; colours and fonts come from the Lab theme (--jp-* variables, style/base.css).
 */
import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { AssistantTab } from './assistant';
import { EnvironmentTab } from './environment';
import { PanelModel } from './model';
import { Gallery } from './gallery';
import { TemplateForm } from './templateform';
import {
  IFileEntry,
  IMember,
  IProject,
  ROLES,
  canEdit,
  filterProjects,
  formatBytes,
  isDataFile,
  isNotebook,
  isOwner,
  percent,
  sortProjects,
  splitProjects
} from './logic';

export interface IPanelActions {
  openFile(path: string): void;
  openProjectFolder(project: IProject): void;
  insert(): Promise<void>;
  update(): Promise<void>;
  prompt(title: string, label: string, value?: string): Promise<string | null>;
  confirm(title: string, body: string, ok: string): Promise<boolean>;
}

export class DatadivePanel extends ReactWidget {
  constructor(
    readonly model: PanelModel,
    readonly actions: IPanelActions
  ) {
    super();
    this.id = 'datadive-panel';
    this.addClass('dd-Panel');
    this.title.caption = 'Datadive';
    model.changed.connect(() => this.update(), this);
  }

  /** Called each time the panel becomes visible (the first time loads the projects). */
  onShow: (() => void) | null = null;

  protected onAfterShow(): void {
    this.onShow?.();
  }

  /**
   * Activation (the "Open Panel" command, its shortcut, or the sidebar tab) moves the keyboard
   * focus into the panel, on its first field or button, unless the focus is already inside.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    requestAnimationFrame(() => {
      if (this.isVisible && !this.node.contains(document.activeElement)) {
        this.node.querySelector<HTMLElement>('input:not([type="file"]), select, button, [tabindex="0"]')?.focus();
      }
    });
  }

  render(): JSX.Element {
    return <PanelView model={this.model} actions={this.actions} />;
  }
}

function PanelView({ model, actions }: { model: PanelModel; actions: IPanelActions }): JSX.Element {
  const body = React.useRef<HTMLDivElement>(null);
  const view = `${model.page}:${model.project?.id ?? ''}:${model.template?.id ?? ''}`;
  const shownView = React.useRef(view);
  // When the view changes (a project opens, a form opens, back to the list) the control that
  // had the keyboard focus is gone and the focus falls back to the page: put it on the new
  // view's heading (or first field) so keyboard and screen-reader users continue from there.
  React.useEffect(() => {
    if (shownView.current === view) {
      return;
    }
    shownView.current = view;
    const active = document.activeElement;
    if (body.current && body.current.offsetParent !== null && (!active || active === document.body)) {
      body.current.querySelector<HTMLElement>('[data-dd-autofocus]')?.focus();
    }
  }, [view]);
  return (
    <div className="dd-PanelBody" aria-busy={model.busy} ref={body}>
      <h2 className="dd-Title">Datadive</h2>
      {model.error && (
        <div className="dd-Error" role="alert">
          <span>{model.error}</span>
          <button className="dd-Link" aria-label="Dismiss the error" onClick={() => model.setError('')}>
            Dismiss
          </button>
        </div>
      )}
      {model.page === 'projects' && <ProjectList model={model} actions={actions} />}
      {model.page === 'project' && model.project && <ProjectView model={model} actions={actions} project={model.project} />}
      {model.page === 'form' && <TemplateForm model={model} actions={actions} />}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

function ProjectList({ model, actions }: { model: PanelModel; actions: IPanelActions }): JSX.Element {
  const [name, setName] = React.useState('');
  const visible = sortProjects(filterProjects(model.projects, model.filter), model.settings.sortProjects);
  const { mine, shared } = splitProjects(visible, model.user);
  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    if (name.trim()) {
      const p = await model.createProject(name);
      if (p) {
        setName('');
      }
    }
  };
  return (
    <section className="dd-Section" aria-label="Projects">
      <form className="dd-Row" onSubmit={create}>
        <label htmlFor="dd-new-project" className="dd-VisuallyHidden">
          New project name
        </label>
        <input
          id="dd-new-project"
          data-dd-autofocus
          className="dd-Input jp-mod-styled"
          placeholder="New project name"
          value={name}
          onChange={e => setName(e.target.value)}
        />
        <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={!name.trim() || model.busy}>
          Create
        </button>
      </form>
      <div className="dd-Row">
        <label htmlFor="dd-project-filter" className="dd-VisuallyHidden">
          Filter projects
        </label>
        <input
          id="dd-project-filter"
          type="search"
          className="dd-Input jp-mod-styled"
          placeholder="Filter projects"
          value={model.filter}
          onChange={e => {
            model.filter = e.target.value;
            model.emit();
          }}
        />
        <button className="jp-Button jp-mod-styled dd-Button" onClick={() => void model.loadProjects()} aria-label="Refresh the project list">
          Refresh
        </button>
      </div>
      {!model.projectsLoaded && model.busy && <p className="dd-Muted">Loading projects…</p>}
      <ProjectGroup title="My projects" projects={mine} model={model} actions={actions} testid="mine" />
      <ProjectGroup title="Shared with me" projects={shared} model={model} actions={actions} testid="shared" />
      {model.projectsLoaded && !model.projects.length && <p className="dd-Muted">No projects yet: create one above.</p>}
      {model.deleted.length > 0 && (
        <details className="dd-Deleted">
          <summary>Recently deleted ({model.deleted.length})</summary>
          <ul className="dd-List" aria-label="Recently deleted projects">
            {model.deleted.map(p => (
              <li key={p.id} className="dd-Item">
                <span className="dd-ItemName">{p.name}</span>
                <button className="dd-Link" onClick={() => void model.restoreProject(p)} aria-label={`Restore project ${p.name}`}>
                  Restore
                </button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function ProjectGroup(props: { title: string; projects: IProject[]; model: PanelModel; actions: IPanelActions; testid: string }): JSX.Element | null {
  const { title, projects, model, actions } = props;
  if (!projects.length) {
    return null;
  }
  const headingId = `dd-projects-${props.testid}`;
  return (
    <div className="dd-Group">
      <h3 id={headingId} className="dd-GroupTitle">
        {title} <span className="dd-Count">({projects.length})</span>
      </h3>
      <ul className="dd-List dd-ProjectList" aria-labelledby={headingId}>
        {projects.map(p => (
          <li key={p.id} className="dd-Item dd-Project" data-project-id={p.id}>
            <button className="dd-ItemMain" onClick={() => void model.openProject(p.id)} title={p.description || p.name}>
              <span className="dd-ItemName">{p.name}</span>
              <span className={`dd-Role dd-Role-${p.role}`}>{p.role}</span>
            </button>
            <button className="dd-Link" onClick={() => actions.openProjectFolder(p)} aria-label={`Open the folder of ${p.name} in the file browser`}>
              Folder
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

function ProjectView({ model, actions, project }: { model: PanelModel; actions: IPanelActions; project: IProject }): JSX.Element {
  const owner = isOwner(project.role as string);
  const tabs: { id: typeof model.tab; label: string }[] = [
    { id: 'files', label: 'Files' },
    { id: 'templates', label: 'Templates' },
    { id: 'assistant', label: 'Assistant' },
    { id: 'environment', label: 'Environment' },
    { id: 'members', label: 'Members' }
  ];
  const select = (id: typeof model.tab) => {
    model.tab = id;
    model.emit();
    if (id === 'templates' && !model.templatesLoaded) {
      void model.loadTemplates();
    }
    if (id === 'members') {
      void model.loadMembers();
    }
  };
  // The tab list's keys (WAI-ARIA tabs pattern): arrows move to the previous / next tab,
  // Home and End to the first / last one.
  const onTabKey = (e: React.KeyboardEvent) => {
    const i = tabs.findIndex(t => t.id === model.tab);
    const target =
      e.key === 'ArrowRight'
        ? (i + 1) % tabs.length
        : e.key === 'ArrowLeft'
          ? (i + tabs.length - 1) % tabs.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? tabs.length - 1
              : -1;
    if (target >= 0) {
      e.preventDefault();
      const next = tabs[target];
      select(next.id);
      (document.getElementById(`dd-tab-${next.id}`) as HTMLElement | null)?.focus();
    }
  };
  return (
    <section className="dd-Section" aria-label={`Project ${project.name}`}>
      <div className="dd-Row">
        <button className="dd-Link" onClick={() => { model.page = 'projects'; model.emit(); }} aria-label="Back to all projects">
          ← Projects
        </button>
      </div>
      <div className="dd-ProjectHeader">
        <h3 className="dd-ProjectName" tabIndex={-1} data-dd-autofocus>
          {project.name}
        </h3>
        <span className={`dd-Role dd-Role-${project.role}`}>{project.role}</span>
      </div>
      <div className="dd-Row dd-Actions">
        <button className="jp-Button jp-mod-styled dd-Button" onClick={() => actions.openProjectFolder(project)}>
          Open folder
        </button>
        {owner && (
          <button
            className="jp-Button jp-mod-styled dd-Button"
            onClick={async () => {
              const name = await actions.prompt('Rename project', 'New name', project.name);
              if (name && name !== project.name) {
                await model.renameProject(project, name);
              }
            }}
          >
            Rename
          </button>
        )}
        {owner && (
          <button
            className="jp-Button jp-mod-styled jp-mod-warn dd-Button"
            onClick={async () => {
              if (await actions.confirm('Delete project', `Delete "${project.name}"? You can restore it from "Recently deleted".`, 'Delete')) {
                await model.deleteProject(project);
              }
            }}
          >
            Delete
          </button>
        )}
      </div>
      <div role="tablist" aria-label="Project sections" className="dd-Tabs" onKeyDown={onTabKey}>
        {tabs.map(t => (
          <button
            key={t.id}
            id={`dd-tab-${t.id}`}
            role="tab"
            aria-selected={model.tab === t.id}
            aria-controls={`dd-tabpanel-${t.id}`}
            tabIndex={model.tab === t.id ? 0 : -1}
            className={`dd-Tab${model.tab === t.id ? ' dd-mod-active' : ''}`}
            onClick={() => select(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`dd-tabpanel-${model.tab}`} aria-labelledby={`dd-tab-${model.tab}`} className="dd-TabPanel">
        {model.tab === 'files' && <FilesView model={model} actions={actions} project={project} />}
        {model.tab === 'templates' && <Gallery model={model} />}
        {model.tab === 'members' && <MembersView model={model} project={project} />}
        {model.tab === 'assistant' && <AssistantTab model={model} />}
        {model.tab === 'environment' && <EnvironmentTab client={model.client} folder={model.projectFolder(project)} />}
      </div>
    </section>
  );
}

function FilesView({ model, actions, project }: { model: PanelModel; actions: IPanelActions; project: IProject }): JSX.Element {
  const [nbName, setNbName] = React.useState('');
  const fileInput = React.useRef<HTMLInputElement>(null);
  const editable = canEdit(project.role as string);
  const folder = model.projectFolder(project);
  const open = (f: IFileEntry) => actions.openFile(`${folder}/${f.path}`);
  const upload = model.upload;
  return (
    <div>
      {editable && (
        <form
          className="dd-Row"
          onSubmit={async e => {
            e.preventDefault();
            const nb = await model.createNotebook(nbName);
            if (nb) {
              setNbName('');
              actions.openFile(`${folder}/${nb.path ?? nb.name}`);
            }
          }}
        >
          <label htmlFor="dd-new-notebook" className="dd-VisuallyHidden">
            New notebook name
          </label>
          <input id="dd-new-notebook" className="dd-Input jp-mod-styled" placeholder="New notebook name" value={nbName} onChange={e => setNbName(e.target.value)} />
          <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={!nbName.trim() || model.busy}>
            New notebook
          </button>
        </form>
      )}
      {editable && (
        <div className="dd-Row">
          <input
            ref={fileInput}
            id="dd-upload-input"
            type="file"
            multiple
            className="dd-VisuallyHidden"
            aria-label="Choose files to upload"
            onChange={e => {
              const files = Array.from(e.target.files || []);
              e.target.value = '';
              if (files.length) {
                void model.uploadFiles(files);
              }
            }}
          />
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => fileInput.current?.click()}>
            Upload files…
          </button>
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => void model.loadProjectContent()} aria-label="Refresh the files of this project">
            Refresh
          </button>
        </div>
      )}
      {upload && (
        <div className="dd-Upload">
          <label htmlFor="dd-upload-progress">Uploading {upload.name}</label>
          <progress id="dd-upload-progress" className="dd-Progress" max={100} value={percent(upload.loaded, upload.total)}>
            {percent(upload.loaded, upload.total)}%
          </progress>
          <span className="dd-Muted">
            {percent(upload.loaded, upload.total)}% of {formatBytes(upload.total)}
          </span>
          {upload.error && (
            <button className="dd-Link" onClick={() => { model.upload = null; model.emit(); }}>
              Close
            </button>
          )}
        </div>
      )}
      <h4 className="dd-GroupTitle" id="dd-notebooks-title">
        Notebooks
      </h4>
      <ul className="dd-List" aria-labelledby="dd-notebooks-title">
        {model.notebooks.map(nb => (
          <li key={nb.path} className="dd-Item dd-Notebook">
            <button className="dd-ItemMain" onClick={() => open(nb)} aria-label={`Open notebook ${nb.path}`}>
              <span className="dd-ItemName">{nb.path}</span>
            </button>
          </li>
        ))}
        {!model.notebooks.length && <li className="dd-Muted">No notebooks yet.</li>}
      </ul>
      <h4 className="dd-GroupTitle" id="dd-files-title">
        Files
      </h4>
      <ul className="dd-List" aria-labelledby="dd-files-title">
        {model.files
          .filter(f => f.type !== 'directory')
          .map(f => (
            <li key={f.path} className="dd-Item dd-File">
              <button className="dd-ItemMain" onClick={() => open(f)} aria-label={`Open ${f.path}`}>
                <span className="dd-ItemName">{f.path}</span>
                <span className="dd-Muted">{formatBytes(f.size)}</span>
              </button>
              {isDataFile(f.path) && !isNotebook(f.path) && (
                <button className="dd-Link" onClick={() => void model.showPreview(f.path)} aria-label={`Preview ${f.path}`}>
                  Preview
                </button>
              )}
            </li>
          ))}
        {!model.files.some(f => f.type !== 'directory') && <li className="dd-Muted">No data files yet: upload one.</li>}
      </ul>
    </div>
  );
}

function MembersView({ model, project }: { model: PanelModel; project: IProject }): JSX.Element {
  const owner = isOwner(project.role as string);
  const [name, setName] = React.useState('');
  const [kind, setKind] = React.useState<'user' | 'group'>('user');
  const [role, setRole] = React.useState('viewer');
  return (
    <div>
      <ul className="dd-List" aria-label="Members">
        {model.members.map((m: IMember) => (
          <li key={`${m.kind}:${m.name}`} className="dd-Item dd-Member">
            <span className="dd-ItemName">
              {m.name} <span className="dd-Muted">({m.kind})</span>
              {m.pending && (
                <span className="dd-Muted dd-Pending" title="Added before their first sign-in: the role takes effect when they sign in">
                  not signed in yet
                </span>
              )}
            </span>
            {owner ? (
              <>
                <label htmlFor={`dd-role-${m.kind}-${m.name}`} className="dd-VisuallyHidden">
                  Role of {m.name}
                </label>
                <select
                  id={`dd-role-${m.kind}-${m.name}`}
                  className="dd-Select jp-mod-styled"
                  value={m.role}
                  onChange={e => void model.setMemberRole({ ...m, role: e.target.value })}
                >
                  {ROLES.map(r => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
                <button className="dd-Link" onClick={() => void model.removeMember(m)} aria-label={`Remove ${m.name} from the project`}>
                  Remove
                </button>
              </>
            ) : (
              <span className={`dd-Role dd-Role-${m.role}`}>{m.role}</span>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <form
          className="dd-MemberForm"
          onSubmit={async e => {
            e.preventDefault();
            if (name.trim() && (await model.addMember({ kind, name: name.trim(), role }))) {
              setName('');
            }
          }}
        >
          <label htmlFor="dd-member-kind">Add a</label>
          <select id="dd-member-kind" className="dd-Select jp-mod-styled" value={kind} onChange={e => setKind(e.target.value as 'user' | 'group')}>
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
          <label htmlFor="dd-member-name" className="dd-VisuallyHidden">
            User or group name
          </label>
          <input id="dd-member-name" className="dd-Input jp-mod-styled" placeholder="name" value={name} onChange={e => setName(e.target.value)} />
          <label htmlFor="dd-member-role">as</label>
          <select id="dd-member-role" className="dd-Select jp-mod-styled" value={role} onChange={e => setRole(e.target.value)}>
            {ROLES.map(r => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={!name.trim()}>
            Add
          </button>
        </form>
      )}
    </div>
  );
}

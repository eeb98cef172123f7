/**
 * The list of projects: search, sort, create, and the user's own and shared projects.
 */
import * as React from 'react';

import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import { ProjectGroup } from './projectgroup';
import { filterProjects, sortProjects, splitProjects } from './projectlistlogic';

export function ProjectList({ model, actions }: { model: PanelModel; actions: IPanelActions }): JSX.Element {
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

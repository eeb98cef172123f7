/**
 * An open project: its tabs (files, templates, assistant, environment, members).
 */
import * as React from 'react';

import { AssistantTab } from './assistant';
import { EnvironmentTab } from './environment';
import { FilesView } from './files';
import { Gallery } from './gallery';
import { MembersView } from './members';
import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import { isOwner } from './roles';
import type { IProject } from './types';

export function ProjectView({ model, actions, project }: { model: PanelModel; actions: IPanelActions; project: IProject }): JSX.Element {
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
        {model.tab === 'environment' && <EnvironmentTab client={model.client} folder={model.projectFolder(project)} onKernelsChanged={actions.kernelsChanged} />}
      </div>
    </section>
  );
}

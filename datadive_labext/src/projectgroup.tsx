/**
 * One group of the project list (mine or shared), each project with its Folder button.
 */
import * as React from 'react';

import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import type { IProject } from './types';

export function ProjectGroup(props: { title: string; projects: IProject[]; model: PanelModel; actions: IPanelActions; testid: string }): JSX.Element | null {
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

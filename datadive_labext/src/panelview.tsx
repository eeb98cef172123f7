/**
 * The panel's body: projects → a project (files, templates, members) → a template form, with the
 * error banner and the focus moved to each new view's heading.
 */
import * as React from 'react';

import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import { ProjectList } from './projectlist';
import { ProjectView } from './projectview';
import { TemplateForm } from './templateform';

export function PanelView({ model, actions }: { model: PanelModel; actions: IPanelActions }): JSX.Element {
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

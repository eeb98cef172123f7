/**
 * "Use in another project": link a data file of the open project into another project the user
 * edits, pinned to its current version, without copying it (the service's
 * POST projects/{target}/datasets; see docs/sharing.md "Datasets from other projects").
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import type { IProject } from './types';
import type { PanelModel } from './model';

/** Projects a file of ``sourceId`` can be linked into: live ones the user edits, not the source. */
export function linkTargets(projects: IProject[], sourceId: string): IProject[] {
  return projects.filter(p => p.id !== sourceId && !p.deleted && (p.role === 'editor' || p.role === 'owner'));
}

/** The dialog body: a labelled list of the target projects; its value is the chosen id. */
class TargetPicker extends Widget {
  private select: HTMLSelectElement;

  constructor(targets: IProject[]) {
    super();
    const label = document.createElement('label');
    label.textContent = 'Project';
    label.htmlFor = 'dd-link-target';
    this.select = document.createElement('select');
    this.select.id = 'dd-link-target';
    this.select.className = 'dd-Input jp-mod-styled';
    for (const p of targets) {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = p.name;
      this.select.appendChild(option);
    }
    const note = document.createElement('p');
    note.className = 'dd-Muted';
    note.textContent =
      'It appears there as a read-only file, pinned to the current version, without a copy. Members there read it only if they can read this project.';
    this.node.append(label, this.select, note);
  }

  getValue(): string {
    return this.select.value;
  }
}

/** Ask for the target project and link ``path`` of the open project into it. */
export async function useInAnotherProject(model: PanelModel, path: string): Promise<void> {
  const source = model.project;
  if (!source) {
    return;
  }
  const targets = linkTargets(model.projects, source.id);
  if (!targets.length) {
    await showDialog({
      title: 'No other project to use it in',
      body: 'You can link a file only into a project where you are an editor or owner.',
      buttons: [Dialog.okButton({ label: 'Close' })]
    });
    return;
  }
  const ask = await showDialog({
    title: `Use "${path}" in another project`,
    body: new TargetPicker(targets),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Link' })]
  });
  const target = targets.find(p => p.id === ask.value);
  if (!ask.button.accept || !target) {
    return;
  }
  const linked = await model.run(`Could not link "${path}" into ${target.name}`, () =>
    model.client.call('service', 'post', '/projects/{project_id}/datasets', {
      path: { project_id: target.id },
      body: { source_project: source.id, source_path: path }
    })
  );
  if (linked) {
    Notification.success(`"${path}" is now in ${target.name} as ${linked.path} (read-only, pinned).`, { autoClose: 4000 });
  }
}

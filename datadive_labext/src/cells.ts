/**
 * Putting rendered template cells into notebooks: insert below the active cell, or replace a
 * generated cell in place (asking first when it was edited by hand).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { IRenderedCell } from './api';
import { datadiveMeta, isHandEdited, joinSource, sha256Hex } from './logic';

/** Metadata of a rendered cell, with a source hash recorded even if the server left it out. */
function withHash(cell: IRenderedCell): Record<string, any> {
  const meta = { ...(cell.metadata.datadive ?? {}) };
  if (!meta.source_hash) {
    meta.source_hash = 'sha256:' + sha256Hex(cell.source);
  }
  return meta;
}

function fill(model: ICellModel, cell: IRenderedCell): void {
  model.sharedModel.transact(() => {
    model.sharedModel.setSource(cell.source);
    model.setMetadata('datadive', withHash(cell));
  });
}

/** The notebook the panel writes into: the current (last focused) notebook. */
export function targetNotebook(tracker: INotebookTracker): NotebookPanel {
  const panel = tracker.currentWidget;
  if (!panel) {
    throw new Error('Open a notebook first: the cell is inserted into the active notebook, below the active cell.');
  }
  return panel;
}

/** Insert rendered cells below the active cell of the current notebook; returns the code cell's index. */
export function insertCells(tracker: INotebookTracker, cells: IRenderedCell[], onFilled?: () => void): number {
  const panel = targetNotebook(tracker);
  const notebook = panel.content;
  if (!notebook.model) {
    throw new Error('The notebook is still loading; try again in a moment.');
  }
  if (notebook.model.readOnly) {
    throw new Error('This notebook is read-only: you cannot insert cells into it.');
  }
  for (const cell of cells) {
    NotebookActions.insertBelow(notebook);
    if (cell.cell_type === 'markdown') {
      NotebookActions.changeCellType(notebook, 'markdown');
    } else if (notebook.activeCell?.model.type !== 'code') {
      NotebookActions.changeCellType(notebook, 'code');
    }
    const active = notebook.activeCell;
    if (active) {
      fill(active.model, cell);
      if (cell.cell_type === 'markdown') {
        (active as any).rendered = true;
      }
    }
  }
  onFilled?.();
  return notebook.activeCellIndex;
}

/** Find a cell by id in the notebook at `path` (open in the tracker). */
export function findCell(tracker: INotebookTracker, path: string, cellId: string): { panel: NotebookPanel; index: number } | null {
  let found: { panel: NotebookPanel; index: number } | null = null;
  tracker.forEach(panel => {
    if (found || panel.context.path !== path || !panel.content.model) {
      return;
    }
    const cells = panel.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === cellId) {
        found = { panel, index: i };
        return;
      }
    }
  });
  return found;
}

/**
 * Replace a generated cell with a new rendering. If the cell's source no longer matches the hash
 * recorded at generation (edited by hand), ask first. Returns false if the researcher declined.
 */
export async function replaceCell(tracker: INotebookTracker, path: string, cellId: string, cells: IRenderedCell[]): Promise<boolean> {
  const where = findCell(tracker, path, cellId);
  if (!where) {
    throw new Error(`The cell to update is gone: it was deleted or ${path} was closed. Insert the cell again instead.`);
  }
  const model = where.panel.content.model!.cells.get(where.index);
  const meta = datadiveMeta({ datadive: model.getMetadata('datadive') });
  if (meta && isHandEdited(joinSource(model.sharedModel.getSource()), meta)) {
    const answer = await showDialog({
      title: 'Replace a cell you edited?',
      body: 'This cell was changed by hand since it was generated. Updating it from the form replaces your changes.',
      buttons: [Dialog.cancelButton({ label: 'Keep my edits' }), Dialog.warnButton({ label: 'Replace' })]
    });
    if (!answer.button.accept) {
      return false;
    }
  }
  const code = cells.find(c => c.cell_type === 'code') ?? cells[cells.length - 1];
  fill(model, code);
  return true;
}

/** The template metadata of the active cell of the current notebook, with where it is. */
export function activeGeneratedCell(tracker: INotebookTracker): { path: string; cellId: string; meta: ReturnType<typeof datadiveMeta> } | null {
  const panel = tracker.currentWidget;
  const cell = panel?.content.activeCell;
  if (!panel || !cell) {
    return null;
  }
  const meta = datadiveMeta({ datadive: cell.model.getMetadata('datadive') });
  if (!meta || (meta as any).role === 'markdown') {
    return null;
  }
  return { path: panel.context.path, cellId: cell.model.id, meta };
}

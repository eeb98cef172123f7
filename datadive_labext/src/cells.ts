/**
 * Putting rendered template cells into notebooks: insert below the active cell, or replace a
 * generated cell in place (asking first when it was edited by hand).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ICellModel, ICodeCellModel, MarkdownCell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IRenderedCell } from './api';
import { insertBlocker, newCells, datadiveMetadata } from './insertion';
import { datadiveMeta, isHandEdited, joinSource } from './generatedcells';

/** Replace a cell's code: the old outputs and execution count go (they belong to the old code). */
function fill(model: ICellModel, cell: IRenderedCell): void {
  if (model.type === 'code') {
    (model as ICodeCellModel).clearExecution();
  }
  model.sharedModel.transact(() => {
    model.sharedModel.setSource(cell.source);
    model.setMetadata('datadive', datadiveMetadata(cell));
  });
}

/** Why Insert cannot write into the current notebook (null: it can). */
export function targetBlocker(tracker: INotebookTracker): string | null {
  const panel = tracker.currentWidget;
  return insertBlocker({
    path: panel?.context.path ?? '',
    loading: !!panel && !panel.content.model,
    readOnly: !!panel?.content.model?.readOnly,
    writable: panel?.context.contentsModel?.writable ?? undefined
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

/**
 * Insert rendered cells below the active cell of the current notebook, in one transaction (one
 * undo removes them all); returns the code cell's index.
 */
export function insertCells(tracker: INotebookTracker, cells: IRenderedCell[], onFilled?: () => void): number {
  const panel = targetNotebook(tracker);
  const blocked = targetBlocker(tracker);
  if (blocked) {
    throw new Error(blocked);
  }
  const notebook = panel.content;
  const shared = notebook.model!.sharedModel;
  const at = Math.min(notebook.activeCellIndex + 1, shared.cells.length);
  const undo = (shared as any).undoManager as { stopCapturing?: () => void } | undefined;
  undo?.stopCapturing?.(); // not merged with an edit made just before
  shared.transact(() => {
    shared.insertCells(at, newCells(cells) as any);
  });
  undo?.stopCapturing?.();
  cells.forEach((cell, i) => {
    const widget = notebook.widgets[at + i];
    if (cell.cell_type === 'markdown' && widget instanceof MarkdownCell) {
      widget.rendered = true;
    }
  });
  const code = cells.findIndex(c => c.cell_type !== 'markdown');
  notebook.activeCellIndex = at + (code >= 0 ? code : cells.length - 1);
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
  if (meta && (await isHandEdited(joinSource(model.sharedModel.getSource()), meta))) {
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

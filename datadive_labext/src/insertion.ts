/**
 * Pure rules for putting template cells into a notebook: the cells as nbformat dictionaries
 * (inserted in one transaction, so one undo removes them), and why Insert is refused.
 */
import { IRenderedCell } from './api';
import { sourceHash } from './generatedcells';

/** An nbformat cell ready for `sharedModel.insertCells`. */
export interface INewCell {
  cell_type: 'code' | 'markdown';
  source: string;
  metadata: Record<string, any>;
  outputs?: any[];
  execution_count?: number | null;
}

/** The datadive metadata of a rendered cell (a copy). */
export function datadiveMetadata(cell: IRenderedCell): Record<string, any> {
  return { ...(cell.metadata?.datadive ?? {}) };
}

/** The cell with a source hash recorded under `datadive` if the server left it out (the
 * assistant's cell); a copy, the rendered cell is not changed. */
export async function withSourceHash(cell: IRenderedCell): Promise<IRenderedCell> {
  const meta: Record<string, any> = datadiveMetadata(cell);
  if (!meta.source_hash) {
    meta.source_hash = await sourceHash(cell.source);
  }
  return { ...cell, metadata: { ...(cell.metadata ?? {}), datadive: meta } } as IRenderedCell;
}

/** Rendered template cells as new notebook cells (a code cell starts without outputs). */
export function newCells(cells: IRenderedCell[]): INewCell[] {
  return cells.map(cell => {
    const metadata = { ...(cell.metadata ?? {}), datadive: datadiveMetadata(cell) };
    return cell.cell_type === 'markdown'
      ? { cell_type: 'markdown', source: cell.source, metadata }
      : { cell_type: 'code', source: cell.source, metadata, outputs: [], execution_count: null };
  });
}

/** What the panel knows about the notebook Insert would write into. */
export interface ITargetState {
  /** path of the current notebook, '' when none is open */
  path: string;
  /** the notebook's model is still loading */
  loading?: boolean;
  /** Lab opened it read-only (model.readOnly) */
  readOnly?: boolean;
  /** the contents model says it cannot be saved (a viewer's project); undefined: unknown */
  writable?: boolean;
}

/** Why Insert cannot put cells into the target notebook, in words; null when it can. */
export function insertBlocker(target: ITargetState): string | null {
  if (!target.path) {
    return 'Open a notebook first: the cell is inserted into the active notebook, below the active cell.';
  }
  const name = target.path.split('/').pop();
  if (target.readOnly || target.writable === false) {
    return `${name} is read-only (you can view this project but not change it): open a notebook in a project where you are an editor, or save a copy of this one in such a project.`;
  }
  if (target.loading) {
    return `${name} is still loading; Insert is possible in a moment.`;
  }
  return null;
}

/**
 * State of the Assistant tab (the question, the answer, a recheck) and of the codebook editor,
 * with the calls to the server extension's `assist`, `assist/recheck`, `codebook` and `values`
 * routes. Part of the panel model: every change re-renders the panel through its `changed` signal.
 */
import { Notification } from '@jupyterlab/apputils';

import { DatadiveError, IRenderedCell } from './api';
import { withSourceHash } from './insertion';
import {
  ColumnEdit,
  IAssistAnswer,
  ICodebookAnswer,
  IQuestion,
  IRecheckAnswer,
  IValuesAnswer,
  Layout,
  QuestionKind,
  Role,
  applyEdits,
  buildAssistRequest,
  codebookSaveError,
  dataPathOf,
  describeEdits,
  emptyQuestion,
  isAssistantDataFile,
  recheckSummary,
  testName
} from './assistantlogic';
import type { PanelModel } from './model';

export type AssistantView = 'ask' | 'codebook';

export interface IRecheckShown {
  changed: boolean;
  text: string;
  answer?: IAssistAnswer;
  cellId: string;
  notebookPath: string;
}

export class AssistantModel {
  constructor(readonly panel: PanelModel) {}

  view: AssistantView = 'ask';
  question: IQuestion = emptyQuestion();
  codebook: ICodebookAnswer | null = null;
  codebookError = '';
  loadingCodebook = false;
  /** Distinct values per column of the current dataset (group pickers). */
  values: Record<string, IValuesAnswer> = {};
  valuesError = '';

  answer: IAssistAnswer | null = null;
  error = '';
  asking = false;
  /** Milliseconds from "Ask" to the answer being in the model (the view records when shown). */
  askMs: number | null = null;
  askStarted = 0;

  edits: Record<string, ColumnEdit> = {};
  saving = false;
  saveError = '';
  conflict = false;

  recheckResult: IRecheckShown | null = null;

  /** Inserts a cell into the active notebook (set by the plugin: the panel's insertion path). */
  insertCell: ((cell: IRenderedCell) => void) | null = null;
  /** Replaces a cell of an open notebook (set by the plugin; false: the researcher declined). */
  replaceCell: ((where: { notebookPath: string; cellId: string }, cell: IRenderedCell) => Promise<boolean>) | null = null;
  /** Path of the notebook a cell would be inserted into (set by the plugin). */
  currentNotebook: () => string | null = () => null;

  private get client() {
    return this.panel.client;
  }

  private emit(): void {
    this.panel.emit();
  }

  /** The data files of the open project the assistant can read. */
  datasets(): string[] {
    return this.panel.files.filter(f => f.type === 'file' && isAssistantDataFile(f.path)).map(f => f.path);
  }

  /** Contents path (from the server's root) of a file of the open project. */
  contentsPath(dataset: string): string {
    const project = this.panel.project;
    return project ? `${this.panel.projectFolder(project)}/${dataset}` : dataset;
  }

  setView(view: AssistantView): void {
    this.view = view;
    this.emit();
    if (this.question.dataset && !this.codebook && !this.loadingCodebook) {
      void this.loadCodebook();
    }
  }

  setKind(kind: QuestionKind): void {
    this.question = { ...emptyQuestion(kind, this.question.dataset), layout: this.question.layout };
    this.answer = null;
    this.error = '';
    this.emit();
  }

  setLayout(layout: Layout): void {
    this.question = { ...this.question, layout, picks: {}, paired: [] };
    this.emit();
  }

  async setDataset(dataset: string): Promise<void> {
    this.question = { ...emptyQuestion(this.question.kind, dataset), layout: this.question.layout };
    this.codebook = null;
    this.values = {};
    this.edits = {};
    this.answer = null;
    this.conflict = false;
    this.saveError = '';
    this.emit();
    if (dataset) {
      await this.loadCodebook();
    }
  }

  setPick(role: Role, column: string): void {
    const picks = { ...this.question.picks, [role]: column || undefined };
    const groupChanged = role === 'group' && picks.group !== this.question.picks.group;
    this.question = { ...this.question, picks, groupValues: groupChanged ? [] : this.question.groupValues };
    this.emit();
    if (groupChanged && column) {
      void this.loadValues(column);
    }
  }

  togglePaired(column: string): void {
    const paired = this.question.paired.includes(column) ? this.question.paired.filter(c => c !== column) : [...this.question.paired, column];
    this.question = { ...this.question, paired };
    this.emit();
  }

  toggleGroupValue(value: string | number | boolean): void {
    const has = this.question.groupValues.some(v => v === value);
    const groupValues = has ? this.question.groupValues.filter(v => v !== value) : [...this.question.groupValues, value];
    this.question = { ...this.question, groupValues };
    this.emit();
  }

  setMu(mu: string): void {
    this.question = { ...this.question, mu };
    this.emit();
  }

  // ---- server calls -----------------------------------------------------------------------------

  async loadCodebook(): Promise<void> {
    const dataset = this.question.dataset;
    if (!dataset) {
      return;
    }
    this.loadingCodebook = true;
    this.codebookError = '';
    this.emit();
    try {
      const answer: ICodebookAnswer = await this.client.call('server', 'get', '/api/codebook/{path}', { path: { path: this.contentsPath(dataset) } });
      if (this.question.dataset === dataset) {
        this.codebook = answer;
        this.edits = {};
        this.conflict = false;
        this.saveError = '';
      }
    } catch (err) {
      this.codebookError = `Could not read the codebook of "${dataset}": ${(err as Error).message}`;
    } finally {
      this.loadingCodebook = false;
      this.emit();
    }
  }

  async loadValues(column: string): Promise<void> {
    const dataset = this.question.dataset;
    this.valuesError = '';
    try {
      const answer: IValuesAnswer = await this.client.call('server', 'get', '/api/values/{path}', { path: { path: this.contentsPath(dataset) }, query: { column } });
      if (this.question.dataset === dataset) {
        this.values = { ...this.values, [column]: answer };
      }
    } catch (err) {
      this.valuesError = `Could not read the values of "${column}": ${(err as Error).message}`;
    }
    this.emit();
  }

  async ask(): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = buildAssistRequest(this.question, this.panel.project ? this.panel.projectFolder(this.panel.project) : '', this.currentNotebook());
    } catch (err) {
      this.error = (err as Error).message;
      this.emit();
      return;
    }
    this.asking = true;
    this.error = '';
    this.answer = null;
    this.askMs = null;
    this.askStarted = performance.now();
    this.emit();
    try {
      this.answer = await this.hashed(await this.client.call('server', 'post', '/api/assist', { body: body as { path: string } }));
      this.askMs = performance.now() - this.askStarted;
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.asking = false;
      this.emit();
    }
  }

  /** The answer with the source hash of its cell recorded (the server leaves it to the panel). */
  private async hashed<T extends IAssistAnswer | undefined>(answer: T): Promise<T> {
    const cell = this.answerCell(answer);
    if (answer?.cell && cell) {
      answer.cell = { ...answer.cell, metadata: (await withSourceHash(cell)).metadata };
    }
    return answer;
  }

  /** The answer's cell, with its record under `datadive` (where the insertion path keeps it). */
  answerCell(answer: IAssistAnswer | null | undefined = this.answer): IRenderedCell | null {
    const cell = answer?.cell;
    if (!cell) {
      return null;
    }
    const source = Array.isArray(cell.source) ? cell.source.join('') : String(cell.source ?? answer?.code ?? '');
    const metadata = cell.metadata?.datadive ? cell.metadata : { datadive: cell.metadata ?? {} };
    return { source, metadata, cell_type: 'code' };
  }

  insert(answer: IAssistAnswer | null | undefined = this.answer): boolean {
    const cell = this.answerCell(answer);
    if (!cell || !this.insertCell) {
      this.error = 'This answer has no cell to insert.';
      this.emit();
      return false;
    }
    try {
      this.insertCell(cell);
      Notification.success(`Inserted the ${testName(answer?.test, answer?.test_name)} cell below the active cell.`, { autoClose: 3000 });
      return true;
    } catch (err) {
      this.error = (err as Error).message;
      Notification.error(this.error, { autoClose: 8000 });
      this.emit();
      return false;
    }
  }

  /** Run the checks again for an inserted cell's record; the result is shown in the tab. */
  async recheck(meta: Record<string, any>, where: { cellId: string; notebookPath: string }): Promise<IRecheckShown | null> {
    const path = dataPathOf(meta) || (this.question.dataset ? this.contentsPath(this.question.dataset) : '');
    this.view = 'ask';
    this.error = '';
    this.recheckResult = null;
    this.asking = true;
    this.emit();
    try {
      const r: IRecheckAnswer = await this.client.call('server', 'post', '/api/assist/recheck', { body: { path, metadata: meta, notebook: where.notebookPath } });
      r.answer = await this.hashed(r.answer);
      const before = meta.test ?? meta.answer?.test ?? meta.recommendation ?? meta.result?.test;
      const summary = recheckSummary(r, typeof before === 'string' ? before : undefined);
      this.recheckResult = { ...summary, answer: r.answer, ...where };
      (summary.changed ? Notification.warning : Notification.info)(summary.text, { autoClose: 8000 });
      return this.recheckResult;
    } catch (err) {
      this.error = `Could not check the cell again: ${(err as Error).message}`;
      Notification.error(this.error, { autoClose: 8000 });
      return null;
    } finally {
      this.asking = false;
      this.emit();
    }
  }

  /** Replace the rechecked cell with the new answer's cell. */
  async replaceRechecked(): Promise<void> {
    const r = this.recheckResult;
    const cell = this.answerCell(r?.answer);
    if (!r || !cell || !this.replaceCell) {
      return;
    }
    try {
      if (await this.replaceCell(r, cell)) {
        Notification.success('The cell now runs the new recommendation; run it for the numbers.', { autoClose: 4000 });
        this.recheckResult = null;
      }
    } catch (err) {
      this.error = (err as Error).message;
      Notification.error(this.error, { autoClose: 8000 });
    }
    this.emit();
  }

  dismissRecheck(): void {
    this.recheckResult = null;
    this.emit();
  }

  // ---- codebook editor --------------------------------------------------------------------------

  setEdit(column: string, edit: ColumnEdit): void {
    this.edits = { ...this.edits, [column]: { ...(this.edits[column] ?? {}), ...edit } };
    this.saveError = '';
    this.emit();
  }

  pendingChanges(): string[] {
    return this.codebook ? describeEdits(this.codebook.codebook, this.edits) : [];
  }

  async saveCodebook(): Promise<boolean> {
    const current = this.codebook;
    if (!current) {
      return false;
    }
    this.saving = true;
    this.saveError = '';
    this.conflict = false;
    this.emit();
    try {
      const answer: ICodebookAnswer = await this.client.call('server', 'put', '/api/codebook/{path}', {
        path: { path: current.path || this.contentsPath(this.question.dataset) },
        body: { codebook: applyEdits(current.codebook, this.edits) as ICodebookAnswer['codebook'], hash: current.hash ?? null }
      });
      this.codebook = answer;
      this.edits = {};
      Notification.success(`Codebook of "${this.question.dataset}" saved.`, { autoClose: 3000 });
      return true;
    } catch (err) {
      const status = err instanceof DatadiveError ? err.status : 0;
      this.conflict = status === 409;
      this.saveError = codebookSaveError(status, (err as Error).message);
      return false;
    } finally {
      this.saving = false;
      this.emit();
    }
  }
}

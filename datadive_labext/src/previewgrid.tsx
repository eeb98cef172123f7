/**
 * The preview of a project's data file in a main-area tab: JupyterLab's own DataGrid (as its
 * CSV viewer uses) with the first rows, a header line with the total row count, and a table of
 * per-column summaries (type, missing, distinct, range, mean, a small distribution).
 *
 * The rows come first (one ranged read of the file's start), so the grid paints at once; the
 * summaries (`summary=1`: the first few MB, computed by the service off its event loop) follow.
 * Pure logic lives in previewlogic.ts.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { BasicKeyHandler, BasicMouseHandler, BasicSelectionModel, DataGrid, DataModel, TextRenderer } from '@lumino/datagrid';
import { BoxPanel } from '@lumino/widgets';
import * as React from 'react';

import { DatadiveClient } from './api';
import {
  GRID_ROWS,
  IColumnSummary,
  IGridPreview,
  cellText,
  columnWidths,
  coverageText,
  distributionBars,
  distributionText,
  formatCount,
  headerText,
  isNumericType,
  missingText,
  rangeText
} from './previewlogic';

/** A React view re-rendered from `render` on every update (the tab's header and summaries). */
class View extends ReactWidget {
  constructor(private readonly draw: () => JSX.Element) {
    super();
  }

  render(): JSX.Element {
    return this.draw();
  }
}

/** Rows of the preview as a DataGrid model: a row-number header, names + types as two header rows. */
class PreviewDataModel extends DataModel {
  constructor(readonly preview: IGridPreview) {
    super();
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === 'body' ? this.preview.rows.length : 2;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? this.preview.columns.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): unknown {
    switch (region) {
      case 'body':
        return cellText(this.preview.rows[row]?.[column]);
      case 'column-header':
        return row === 0 ? this.preview.columns[column]?.name : this.preview.columns[column]?.type;
      case 'row-header':
        return String(row + 1);
      default:
        return row === 0 ? '#' : '';
    }
  }
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** The grid's colours and fonts from the Lab theme (light or dark). */
function themeStyle(): { style: DataGrid.Style; text: string; muted: string; font: string; headerFont: string } {
  const bg0 = cssVar('--jp-layout-color0', '#fff');
  const bg1 = cssVar('--jp-layout-color1', '#fff');
  const font = `${cssVar('--jp-code-font-size', '13px')} ${cssVar('--jp-code-font-family', 'monospace')}`;
  const headerFont = `600 ${cssVar('--jp-ui-font-size1', '13px')} ${cssVar('--jp-ui-font-family', 'sans-serif')}`;
  return {
    style: {
      ...DataGrid.defaultStyle,
      voidColor: bg0,
      backgroundColor: bg0,
      rowBackgroundColor: i => (i % 2 === 0 ? bg0 : bg1),
      gridLineColor: cssVar('--jp-border-color3', '#eee'),
      headerBackgroundColor: cssVar('--jp-layout-color2', '#eee'),
      headerGridLineColor: cssVar('--jp-border-color2', '#ddd'),
      selectionFillColor: 'rgba(33, 150, 243, 0.2)',
      selectionBorderColor: cssVar('--jp-brand-color1', '#1976d2'),
      cursorBorderColor: cssVar('--jp-brand-color1', '#1976d2')
    },
    text: cssVar('--jp-ui-font-color1', '#000'),
    muted: cssVar('--jp-ui-font-color2', '#555'),
    font,
    headerFont
  };
}

export interface IPreviewTimings {
  path: string;
  /** From the request to its answer (ms). */
  rowsMs?: number;
  /** From the request to the grid's model and sizes set (ms). */
  modelSetMs?: number;
  /** From the request to the next animation frame after that (ms). */
  firstFrameMs?: number;
  /** From the request to the grid painted with the first rows (ms). */
  firstPaintMs?: number;
  /** From the request to the summaries shown (ms). */
  summaryMs?: number;
}

/** The tab's content: header line, grid, summaries. */
export class PreviewGrid extends BoxPanel {
  constructor(
    readonly client: DatadiveClient,
    readonly projectId: string,
    readonly path: string
  ) {
    super({ direction: 'top-to-bottom', spacing: 0 });
    this.addClass('dd-PreviewGrid');
    this.node.dataset.state = 'loading';
    this.header = new View(() => <PreviewHeader grid={this} />);
    this.header.addClass('dd-PreviewGrid-header');
    this.grid = new DataGrid({
      defaultSizes: { rowHeight: 22, columnWidth: 110, rowHeaderWidth: 56, columnHeaderHeight: 22 },
      headerVisibility: 'all'
    });
    this.grid.addClass('dd-PreviewGrid-grid');
    this.grid.node.setAttribute('role', 'region');
    this.grid.node.setAttribute('aria-label', `First rows of ${path}`);
    this.grid.keyHandler = new BasicKeyHandler();
    this.grid.mouseHandler = new BasicMouseHandler();
    this.grid.copyConfig = { ...this.grid.copyConfig, headers: 'column' };
    this.summaries = new View(() => <SummaryTable grid={this} />);
    this.summaries.addClass('dd-PreviewGrid-summaries');
    this.addWidget(this.header);
    this.addWidget(this.grid);
    this.addWidget(this.summaries);
    BoxPanel.setStretch(this.header, 0);
    BoxPanel.setStretch(this.grid, 3);
    BoxPanel.setStretch(this.summaries, 2);
    this.restyle();
    this.themeObserver = new MutationObserver(() => this.restyle());
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name'] });
  }

  readonly header: ReactWidget;
  readonly grid: DataGrid;
  readonly summaries: ReactWidget;
  preview: IGridPreview | null = null;
  error = '';
  summaryError = '';
  loadingSummary = false;
  timings: IPreviewTimings = { path: '' };

  dispose(): void {
    this.themeObserver.disconnect();
    super.dispose();
  }

  /** Read the first rows, paint them, then read the summaries. */
  async load(): Promise<void> {
    const t0 = performance.now();
    this.timings = { path: this.path };
    this.error = '';
    this.summaryError = '';
    this.node.dataset.state = 'loading';
    this.refreshViews();
    const route = { path: { project_id: this.projectId, path: this.path } };
    try {
      this.preview = await this.client.call('service', 'get', '/projects/{project_id}/preview/{path}', { ...route, query: { rows: GRID_ROWS } });
    } catch (err) {
      this.error = `Could not preview "${this.path}": ${(err as Error).message}`;
      this.node.dataset.state = 'error';
      this.refreshViews();
      return;
    }
    this.timings.rowsMs = performance.now() - t0;
    this.grid.dataModel = new PreviewDataModel(this.preview);
    this.grid.selectionModel = new BasicSelectionModel({ dataModel: this.grid.dataModel });
    columnWidths(this.preview).forEach((w, i) => this.grid.resizeColumn('body', i, w));
    this.restyle();
    this.loadingSummary = true;
    this.refreshViews();
    // the grid paints on the next animation frame; note the time after it
    this.timings.modelSetMs = performance.now() - t0;
    requestAnimationFrame(() => {
      this.timings.firstFrameMs = performance.now() - t0;
      requestAnimationFrame(() => {
        this.timings.firstPaintMs = performance.now() - t0;
        this.node.dataset.state = 'rows';
        (window as any).datadivePreviewTimings = { ...this.timings };
      });
    });
    try {
      // asked once the rows are in, so that reading up to 4 MB never delays the grid
      const s = await this.client.call('service', 'get', '/projects/{project_id}/preview/{path}', { ...route, query: { rows: 0, summary: '1' } });
      if (this.preview) {
        this.preview = {
          ...this.preview,
          summary: s.summary ?? null,
          total_rows: s.total_rows ?? this.preview.total_rows,
          total_rows_estimate: s.total_rows === null || s.total_rows === undefined ? s.total_rows_estimate ?? this.preview.total_rows_estimate : null
        };
      }
    } catch (err) {
      this.summaryError = `Could not summarise the columns: ${(err as Error).message}`;
    }
    this.loadingSummary = false;
    this.timings.summaryMs = performance.now() - t0;
    (window as any).datadivePreviewTimings = { ...this.timings };
    this.refreshViews();
  }

  private refreshViews(): void {
    this.header.update();
    this.summaries.update();
  }

  private restyle(): void {
    const t = themeStyle();
    this.grid.style = t.style;
    const types = this.preview?.columns.map(c => c.type) ?? [];
    this.grid.cellRenderers.update({
      body: new TextRenderer({
        font: t.font,
        textColor: t.text,
        horizontalAlignment: config => (isNumericType(types[config.column] ?? '') ? 'right' : 'left')
      }),
      'column-header': new TextRenderer({
        font: config => (config.row === 0 ? t.headerFont : t.font),
        textColor: config => (config.row === 0 ? t.text : t.muted)
      }),
      'row-header': new TextRenderer({ font: t.font, textColor: t.muted, horizontalAlignment: 'right' }),
      'corner-header': new TextRenderer({ font: t.font, textColor: t.muted })
    });
  }

  private themeObserver: MutationObserver;
}

function PreviewHeader({ grid }: { grid: PreviewGrid }): JSX.Element {
  const p = grid.preview;
  return (
    <div className="dd-PreviewHeader">
      <h2 className="dd-PreviewTitle">{grid.path}</h2>
      {grid.error ? (
        <div className="dd-Error" role="alert">
          {grid.error}
        </div>
      ) : p ? (
        <p className="dd-PreviewCounts" aria-live="polite">
          {headerText(p)}
        </p>
      ) : (
        <p className="dd-Muted">Reading the first rows…</p>
      )}
      <button className="jp-Button jp-mod-styled dd-Button" onClick={() => void grid.load()} aria-label={`Read ${grid.path} again`}>
        Refresh
      </button>
    </div>
  );
}

function Bars({ column }: { column: IColumnSummary }): JSX.Element | null {
  const bars = distributionBars(column);
  if (!bars.length) {
    return null;
  }
  const w = 6;
  const gap = 1;
  const h = 24;
  return (
    <svg
      className="dd-Bars"
      width={bars.length * (w + gap)}
      height={h}
      role="img"
      aria-label={distributionText(column)}
      viewBox={`0 0 ${bars.length * (w + gap)} ${h}`}
    >
      {bars.map((b, i) => {
        const bh = Math.max(1, Math.round(b.height * h));
        return (
          <rect key={i} x={i * (w + gap)} y={h - bh} width={w} height={bh} className={column.histogram ? 'dd-Bar' : 'dd-Bar dd-Bar-top'}>
            <title>{b.label}</title>
          </rect>
        );
      })}
    </svg>
  );
}

function SummaryTable({ grid }: { grid: PreviewGrid }): JSX.Element | null {
  const p = grid.preview;
  if (!p) {
    return null;
  }
  const s = p.summary;
  return (
    <section className="dd-Summaries" aria-label={`Column summaries of ${grid.path}`}>
      <h3 className="dd-GroupTitle">Columns</h3>
      {grid.summaryError && (
        <p className="dd-Error" role="alert">
          {grid.summaryError}
        </p>
      )}
      {grid.loadingSummary && <p className="dd-Muted">Summarising the columns…</p>}
      {s && <p className="dd-Muted dd-Coverage">{coverageText(s)}</p>}
      <table className="dd-SummaryTable">
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Type</th>
            <th scope="col">Missing</th>
            <th scope="col">Distinct</th>
            <th scope="col">Range or most frequent</th>
            <th scope="col">Distribution</th>
          </tr>
        </thead>
        <tbody>
          {p.columns.map(c => {
            const cs = s?.columns.find(x => x.name === c.name);
            return (
              <tr key={c.name} data-column={c.name}>
                <th scope="row" className="dd-SummaryName">
                  {c.name}
                </th>
                <td>{cs?.type ?? c.type}</td>
                <td className="dd-Num">{cs ? missingText(cs) : ''}</td>
                <td className="dd-Num">{cs && typeof cs.distinct === 'number' ? formatCount(cs.distinct) : ''}</td>
                <td className="dd-Num">{cs ? rangeText(cs) : ''}</td>
                <td>{cs && <Bars column={cs} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** Opens (or brings back) the preview tab of a project's file. */
export class PreviewOpener {
  constructor(
    private readonly client: DatadiveClient,
    private readonly addToMain: (widget: MainAreaWidget<PreviewGrid>) => void,
    private readonly activate: (id: string) => void
  ) {}

  private open = new Map<string, MainAreaWidget<PreviewGrid>>();

  /** Show the preview of `path` in project `projectId`; an open tab of it is read again. */
  show(projectId: string, path: string): MainAreaWidget<PreviewGrid> {
    const key = `${projectId}:${path}`;
    let widget = this.open.get(key);
    if (widget && !widget.isDisposed) {
      this.activate(widget.id);
      void widget.content.load();
      return widget;
    }
    const content = new PreviewGrid(this.client, projectId, path);
    widget = new MainAreaWidget({ content });
    widget.id = `datadive-preview-${projectId}-${Array.from(path, ch => ch.charCodeAt(0).toString(36)).join('')}`.slice(0, 200);
    widget.title.label = `Preview: ${path.split('/').pop()}`;
    widget.title.caption = `Preview of ${path}`;
    widget.title.closable = true;
    widget.addClass('dd-PreviewTab');
    this.open.set(key, widget);
    widget.disposed.connect(() => this.open.delete(key));
    this.addToMain(widget);
    this.activate(widget.id);
    void content.load();
    return widget;
  }
}

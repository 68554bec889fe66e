import type { MatrixSeries, TestPrometheus } from '../../spec/support/prometheus-server.js';
import {
  type Dashboard,
  type DashboardPanel,
  type DashboardTarget,
  type QueryWindows,
  substituteVariables,
} from '../../spec/unit/observability/read-dashboard.js';
import { colorOf, GRAFANA_COLORS, statesOf } from './panel-colors.js';
import type {
  PanelBox,
  PanelPicture,
  PanelUnit,
  PictureAnnotation,
  PictureSeries,
  RowPicture,
  StatPicture,
  TablePicture,
} from './row-picture.js';
import { type QueryResult, tableOf } from './table-of.js';

/** The time range the pictures show, and how finely. */
export interface PictureWindow {
  startSeconds: number;
  endSeconds: number;
  stepSeconds: number;
  /** What `$__rate_interval` stands for (Grafana derives it from the scrape interval and the step). */
  rateInterval: string;
}

/** Grafana's layout: 24 columns, 30 px cells with 8 px gutters. */
const CELL_HEIGHT_PX = 30;
const GUTTER_PX = 8;
const ROW_HEADER_PX = 36;
const CAPTION_PX = 28;

/** Panels of each row of the dashboard, in reading order. */
export function dashboardRows(dashboard: Dashboard): { title: string; panels: DashboardPanel[] }[] {
  const rows: { title: string; panels: DashboardPanel[] }[] = [];
  const ordered = [...dashboard.panels].sort(
    (a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x,
  );
  for (const panel of ordered) {
    if (panel.type === 'row') rows.push({ title: panel.title, panels: [] });
    else rows.at(-1)?.panels.push(panel);
  }
  return rows;
}

/**
 * Queries Prometheus for every panel of `row` as Grafana would over `window` ("All" selected for
 * every variable), and lays the panels out as Grafana does on a page `widthPx` wide.
 */
export async function pictureOfRow(
  prometheus: TestPrometheus,
  dashboard: Dashboard,
  row: { title: string; panels: DashboardPanel[] },
  window: PictureWindow,
  options: { widthPx: number; marks: PictureAnnotation[]; caption: string },
): Promise<RowPicture> {
  const times: number[] = [];
  for (let t = window.startSeconds; t <= window.endSeconds; t += window.stepSeconds) times.push(t);
  const windows: QueryWindows = {
    rateInterval: window.rateInterval,
    range: `${Math.round(window.endSeconds - window.startSeconds)}s`,
  };
  const query = new PanelQueries(prometheus, window, times, windows);
  const topY = Math.min(...row.panels.map((panel) => panel.gridPos.y));
  const bottomY = Math.max(...row.panels.map((panel) => panel.gridPos.y + panel.gridPos.h));
  const panels: PanelPicture[] = [];
  for (const panel of row.panels) {
    panels.push(await query.picture(panel, boxOf(panel, topY, options.widthPx)));
  }
  const annotations = [...(await query.annotations(dashboard)), ...options.marks];
  return {
    title: row.title,
    widthPx: options.widthPx,
    heightPx: ROW_HEADER_PX + (bottomY - topY) * (CELL_HEIGHT_PX + GUTTER_PX) + CAPTION_PX,
    times,
    annotations,
    panels,
    caption: options.caption,
  };
}

function boxOf(panel: DashboardPanel, topY: number, widthPx: number): PanelBox {
  const column = (widthPx - GUTTER_PX) / 24;
  const { x, y, w, h } = panel.gridPos;
  return {
    left: GUTTER_PX + x * column,
    top: ROW_HEADER_PX + (y - topY) * (CELL_HEIGHT_PX + GUTTER_PX),
    width: w * column - GUTTER_PX,
    height: h * CELL_HEIGHT_PX + (h - 1) * GUTTER_PX,
  };
}

/** Grafana's `{{label}}` legend, or the labels themselves when the legend is empty. */
function legendOf(format: string | undefined, labels: Record<string, string>): string {
  if (format) return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
  const shown = Object.entries(labels).filter(([name]) => name !== '__name__');
  return shown.length === 0 ? 'Value' : `{${shown.map(([name, value]) => `${name}="${value}"`).join(', ')}}`;
}

class PanelQueries {
  constructor(
    private readonly prometheus: TestPrometheus,
    private readonly window: PictureWindow,
    private readonly times: number[],
    private readonly windows: QueryWindows,
  ) {}

  async picture(panel: DashboardPanel, box: PanelBox): Promise<PanelPicture> {
    const defaults = panel.fieldConfig?.defaults ?? {};
    const unit = (defaults.unit ?? 'none') as PanelUnit;
    const base = { title: panel.title, box, unit };
    switch (panel.type) {
      case 'timeseries':
        return {
          ...base,
          kind: 'timeseries',
          max: defaults.max,
          series: await this.#allSeries(panel.targets ?? []),
          legendCalcs: panel.options?.legend?.calcs ?? [],
          legendSortBy: panel.options?.legend?.sortBy,
        };
      case 'stat':
        return { ...base, ...(await this.#stat(panel)) };
      case 'table':
        return { ...base, ...(await this.#table(panel, unit)) };
      case 'state-timeline':
        return {
          ...base,
          kind: 'state-timeline',
          series: await this.#allSeries(panel.targets ?? []),
          states: statesOf(defaults.mappings ?? []),
        };
      default:
        throw new Error(`no picture for panel type ${panel.type} (${panel.title})`);
    }
  }

  async annotations(dashboard: Dashboard): Promise<PictureAnnotation[]> {
    const marks: PictureAnnotation[] = [];
    for (const annotation of dashboard.annotations.list) {
      if (annotation.expr === undefined || annotation.enable === false) continue;
      for (const series of await this.#range(annotation.expr)) {
        const title = annotation.titleFormat ?? annotation.name;
        const text = `${title}: ${legendOf(annotation.textFormat, series.metric)}`;
        // Grafana merges consecutive points into one region, which starts when the event happened.
        let previous: number | undefined;
        for (const [time] of series.values) {
          if (previous === undefined || time - previous > this.window.stepSeconds * 1.5)
            marks.push({ text, startSeconds: time, endSeconds: time, color: GRAFANA_COLORS.red as string });
          previous = time;
        }
      }
    }
    return marks;
  }

  async #range(expr: string): Promise<MatrixSeries[]> {
    const { startSeconds, endSeconds, stepSeconds } = this.window;
    return this.prometheus.queryRange(
      substituteVariables(expr, this.windows),
      startSeconds,
      endSeconds,
      stepSeconds,
    );
  }

  async #allSeries(targets: readonly DashboardTarget[]): Promise<PictureSeries[]> {
    const all: PictureSeries[] = [];
    for (const target of targets) {
      for (const series of await this.#range(target.expr)) {
        all.push({ label: legendOf(target.legendFormat, series.metric), values: this.#aligned(series) });
      }
    }
    return all;
  }

  #aligned(series: MatrixSeries): (number | null)[] {
    const byTime = new Map(series.values.map(([time, value]) => [Math.round(time), Number(value)]));
    return this.times.map((time) => {
      const value = byTime.get(Math.round(time));
      return value === undefined || !Number.isFinite(value) ? null : value;
    });
  }

  async #stat(panel: DashboardPanel): Promise<Omit<StatPicture, 'title' | 'box' | 'unit'>> {
    const defaults = panel.fieldConfig?.defaults ?? {};
    const target = panel.targets?.[0] as DashboardTarget;
    let value: number | null;
    let sparkline: (number | null)[] | undefined;
    if (target.instant) {
      const [sample] = await this.prometheus.query(substituteVariables(target.expr, this.windows));
      value = sample === undefined ? null : Number(sample.value[1]);
    } else {
      const [series] = await this.#range(target.expr);
      sparkline = series === undefined ? undefined : this.#aligned(series);
      value = [...(sparkline ?? [])].reverse().find((point) => point !== null) ?? null;
    }
    return {
      kind: 'stat',
      value,
      decimals: defaults.decimals,
      color: colorOf(defaults, value),
      sparkline: panel.options?.graphMode === 'none' ? undefined : sparkline,
    };
  }

  /** A table panel: each query's instant result, merged and organised as Grafana does. */
  async #table(
    panel: DashboardPanel,
    unit: PanelUnit,
  ): Promise<Omit<TablePicture, 'title' | 'box' | 'unit'>> {
    const results: QueryResult[] = [];
    for (const target of panel.targets ?? []) {
      const samples = await this.prometheus.query(substituteVariables(target.expr, this.windows));
      results.push({ refId: target.refId, samples });
    }
    return { kind: 'table', ...tableOf(panel, unit, results) };
  }
}

// Runs in the page (headless Chromium), not in Node: row-page.ts transpiles it and inlines it after
// uPlot's browser build. It draws `globalThis.ROW` the way Grafana's dark theme draws the panels.
import type UPlot from 'uplot';
import type {
  PanelBox,
  PanelUnit,
  PictureAnnotation,
  PictureSeries,
  RowPicture,
  StateTimelinePicture,
  StatPicture,
  TablePicture,
  TimeSeriesPicture,
} from './row-picture.js';

const page = globalThis as unknown as { uPlot: typeof UPlot; ROW: RowPicture };

// Grafana's classic palette, in its order.
const PALETTE = [
  '#7EB26D',
  '#EAB839',
  '#6ED0E0',
  '#EF843C',
  '#E24D42',
  '#1F78C1',
  '#BA43A6',
  '#705DA0',
  '#508642',
  '#CCA300',
  '#447EBC',
  '#C15C17',
];
const TEXT = '#CCCCDC';
const WEAK_TEXT = '#8E8E9A';
const GRID = 'rgba(204, 204, 220, 0.08)';
const TITLE_PX = 30;
const LEGEND_ROW_PX = 19;

function decimalsFor(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude === 0 || magnitude >= 100) return 0;
  return magnitude >= 10 ? 1 : 2;
}

function fixed(value: number, decimals: number | undefined): string {
  return value.toFixed(decimals ?? decimalsFor(value));
}

/** A value as Grafana shows it in `unit`. */
function formatValue(unit: PanelUnit, value: number | null, decimals?: number): string {
  if (value === null || !Number.isFinite(value)) return value === null ? '-' : String(value);
  switch (unit) {
    case 'percentunit':
      return `${fixed(value * 100, decimals)}%`;
    case 'reqps':
      return `${fixed(value, decimals)} req/s`;
    case 'ops':
      return `${fixed(value, decimals)} ops/s`;
    case 's':
      return seconds(value, decimals);
    case 'bytes':
      return bytes(value, decimals);
    default:
      return Math.abs(value) >= 1000 ? `${fixed(value / 1000, decimals)} K` : fixed(value, decimals);
  }
}

function seconds(value: number, decimals: number | undefined): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0 s';
  if (magnitude < 0.001) return `${fixed(value * 1e6, decimals)} µs`;
  if (magnitude < 1) return `${fixed(value * 1000, decimals)} ms`;
  if (magnitude < 60) return `${fixed(value, decimals)} s`;
  if (magnitude < 3600) return `${fixed(value / 60, decimals)} min`;
  return `${fixed(value / 3600, decimals)} hour`;
}

function bytes(value: number, decimals: number | undefined): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let scaled = value;
  let index = 0;
  while (Math.abs(scaled) >= 1024 && index < units.length - 1) {
    scaled /= 1024;
    index++;
  }
  return `${fixed(scaled, index === 0 ? 0 : decimals)} ${units[index]}`;
}

function clock(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(11, 19);
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  style: Partial<CSSStyleDeclaration>,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  if (text !== undefined) node.textContent = text;
  return node;
}

function panelFrame(title: string, box: PanelBox): { frame: HTMLDivElement; body: HTMLDivElement } {
  const frame = element('div', {
    position: 'absolute',
    left: `${box.left}px`,
    top: `${box.top}px`,
    width: `${box.width}px`,
    height: `${box.height}px`,
    background: '#181B1F',
    border: '1px solid rgba(204, 204, 220, 0.12)',
    borderRadius: '2px',
    boxSizing: 'border-box',
    overflow: 'hidden',
  });
  frame.append(
    element(
      'div',
      {
        height: `${TITLE_PX}px`,
        lineHeight: `${TITLE_PX}px`,
        padding: '0 8px',
        fontWeight: '500',
        fontSize: '14px',
      },
      title,
    ),
  );
  const body = element('div', {
    position: 'absolute',
    left: '8px',
    right: '8px',
    top: `${TITLE_PX}px`,
    bottom: '6px',
  });
  frame.append(body);
  return { frame, body };
}

/** Vertical dashed lines at the annotations, and shaded bands for those that span a time. */
function annotationHook(annotations: readonly PictureAnnotation[]) {
  return (u: UPlot) => {
    const context = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    context.save();
    for (const mark of annotations) {
      const start = u.valToPos(mark.startSeconds, 'x', true);
      const end = u.valToPos(mark.endSeconds, 'x', true);
      context.strokeStyle = mark.color;
      context.fillStyle = mark.color;
      if (end - start > 1) {
        context.globalAlpha = 0.09;
        context.fillRect(start, top, end - start, height);
        context.globalAlpha = 0.9;
        context.font = '11px sans-serif';
        context.fillText(mark.text, start + 4, top + 12);
      } else {
        context.globalAlpha = 0.9;
        context.setLineDash([4, 3]);
        context.beginPath();
        context.moveTo(start, top);
        context.lineTo(start, top + height);
        context.stroke();
        context.setLineDash([]);
        context.beginPath();
        context.moveTo(start - 4, top + height);
        context.lineTo(start + 4, top + height);
        context.lineTo(start, top + height - 6);
        context.fill();
      }
    }
    context.restore();
  };
}

function calc(name: string, values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  if (present.length === 0) return null;
  if (name === 'max') return Math.max(...present);
  if (name === 'min') return Math.min(...present);
  if (name === 'mean') return present.reduce((sum, value) => sum + value, 0) / present.length;
  return present[present.length - 1] ?? null;
}

const CALC_TITLES: Record<string, string> = { mean: 'Mean', max: 'Max', min: 'Min', lastNotNull: 'Last *' };

function drawTimeSeries(panel: TimeSeriesPicture, root: HTMLElement): void {
  const { frame, body } = panelFrame(panel.title, panel.box);
  root.append(frame);
  const series = panel.series.map((entry, index) => ({
    ...entry,
    color: PALETTE[index % PALETTE.length] as string,
  }));
  if (panel.legendSortBy !== undefined) {
    const key = panel.legendSortBy.toLowerCase();
    series.sort((a, b) => (calc(key, b.values) ?? -Infinity) - (calc(key, a.values) ?? -Infinity));
  }
  const bodyHeight = panel.box.height - TITLE_PX - 8;
  // The legend takes what its rows need, at most 45 % of the panel (a header, rows, "+ N more").
  const fitting = Math.max(1, Math.floor((bodyHeight * 0.45) / LEGEND_ROW_PX) - 1);
  const legendRows = series.length > fitting ? series.slice(0, fitting - 1) : series;
  const legendLines = 1 + legendRows.length + (series.length > legendRows.length ? 1 : 0);
  const chartHeight = bodyHeight - legendLines * LEGEND_ROW_PX - 4;
  const chart = element('div', {});
  body.append(chart);
  if (series.length === 0) {
    chart.append(
      element(
        'div',
        { height: `${chartHeight}px`, lineHeight: `${chartHeight}px`, textAlign: 'center', color: WEAK_TEXT },
        'No data',
      ),
    );
    return;
  }
  const width = panel.box.width - 18;
  const options: UPlot.Options = {
    width,
    height: Math.max(60, chartHeight),
    legend: { show: false },
    cursor: { show: false },
    padding: [8, 28, 0, 0],
    scales: {
      x: { time: true },
      y: { range: (_u, min, max) => [Math.min(0, min), panel.max ?? (max > 0 ? max * 1.1 : 1)] },
    },
    axes: [
      {
        stroke: WEAK_TEXT,
        grid: { stroke: GRID, width: 1 },
        ticks: { show: false },
        font: '11px sans-serif',
        values: (_u, splits) => splits.map((split) => clock(split).slice(0, 8)),
        space: 80,
      },
      {
        stroke: WEAK_TEXT,
        grid: { stroke: GRID, width: 1 },
        ticks: { show: false },
        font: '11px sans-serif',
        size: 72,
        values: (_u, splits) => splits.map((split) => formatValue(panel.unit, split)),
      },
    ],
    series: [
      {},
      ...series.map((entry) => ({
        label: entry.label,
        stroke: entry.color,
        width: 1.5,
        fill: `${entry.color}1A`,
        points: { show: false },
        spanGaps: false,
      })),
    ],
    hooks: { draw: [annotationHook(page.ROW.annotations)] },
  };
  new page.uPlot(
    options,
    [page.ROW.times, ...series.map((entry) => entry.values)] as UPlot.AlignedData,
    chart,
  );

  const legend = element('table', {
    width: '100%',
    borderCollapse: 'collapse',
    fontSize: '12px',
    marginTop: '4px',
  });
  const header = element('tr', { color: WEAK_TEXT });
  header.append(element('td', { height: `${LEGEND_ROW_PX}px` }, ''));
  for (const name of panel.legendCalcs)
    header.append(
      element('td', { textAlign: 'right', width: '90px', color: '#6E9FFF' }, CALC_TITLES[name] ?? name),
    );
  legend.append(header);
  for (const entry of legendRows) legend.append(legendRow(entry, entry.color, panel));
  if (series.length > legendRows.length) {
    const more = element('tr', { color: WEAK_TEXT });
    more.append(element('td', {}, `+ ${series.length - legendRows.length} more`));
    legend.append(more);
  }
  body.append(legend);
}

function legendRow(entry: PictureSeries, color: string, panel: TimeSeriesPicture): HTMLTableRowElement {
  const row = element('tr', { height: `${LEGEND_ROW_PX}px`, borderTop: `1px solid ${GRID}` });
  const name = element('td', {
    whiteSpace: 'nowrap',
    overflow: 'hidden',
    maxWidth: '0',
    textOverflow: 'ellipsis',
  });
  name.append(
    element('span', {
      display: 'inline-block',
      width: '14px',
      height: '4px',
      background: color,
      borderRadius: '2px',
      marginRight: '6px',
      verticalAlign: 'middle',
    }),
  );
  name.append(document.createTextNode(entry.label));
  row.append(name);
  for (const calcName of panel.legendCalcs)
    row.append(element('td', { textAlign: 'right' }, formatValue(panel.unit, calc(calcName, entry.values))));
  return row;
}

function drawStat(panel: StatPicture, root: HTMLElement): void {
  const { frame, body } = panelFrame(panel.title, panel.box);
  root.append(frame);
  const height = panel.box.height - TITLE_PX - 8;
  const fontPx = Math.min(height * 0.32, (panel.box.width - 20) / 4.2);
  body.append(
    element(
      'div',
      {
        position: 'absolute',
        left: '0',
        right: '0',
        top: `${panel.sparkline === undefined ? height / 2 - fontPx * 0.65 : height * 0.12}px`,
        textAlign: 'center',
        fontSize: `${fontPx}px`,
        fontWeight: '500',
        color: panel.color,
        zIndex: '1',
      },
      formatValue(panel.unit, panel.value, panel.decimals),
    ),
  );
  if (panel.sparkline === undefined) return;
  const spark = element('div', { position: 'absolute', left: '-8px', right: '-8px', bottom: '-6px' });
  body.append(spark);
  const values = panel.sparkline;
  const max = Math.max(...values.filter((value): value is number => value !== null), 0);
  new page.uPlot(
    {
      width: panel.box.width - 2,
      height: Math.round(height * 0.5),
      legend: { show: false },
      cursor: { show: false },
      padding: [0, 0, 0, 0],
      scales: { x: { time: true }, y: { range: [0, max > 0 ? max * 1.05 : 1] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: panel.color, width: 1.5, fill: `${panel.color}26`, points: { show: false } }],
    },
    [page.ROW.times, values] as UPlot.AlignedData,
    spark,
  );
}

function drawTable(panel: TablePicture, root: HTMLElement): void {
  const { frame, body } = panelFrame(panel.title, panel.box);
  root.append(frame);
  body.style.overflow = 'hidden';
  const table = element('table', { width: '100%', borderCollapse: 'collapse', fontSize: '13px' });
  const header = element('tr', {});
  for (const column of panel.columns) {
    header.append(
      element(
        'th',
        {
          textAlign: column.unit === 'none' ? 'left' : 'right',
          color: '#6E9FFF',
          fontWeight: '500',
          padding: '6px 8px',
          borderBottom: `1px solid rgba(204, 204, 220, 0.15)`,
        },
        column.name,
      ),
    );
  }
  table.append(header);
  for (const cells of panel.rows) {
    const row = element('tr', {});
    panel.columns.forEach((column, index) => {
      const cell = cells[index] ?? null;
      const text = typeof cell === 'number' ? formatValue(column.unit, cell, column.decimals) : (cell ?? '-');
      row.append(
        element(
          'td',
          {
            textAlign: column.unit === 'none' ? 'left' : 'right',
            padding: '5px 8px',
            borderBottom: `1px solid ${GRID}`,
          },
          text,
        ),
      );
    });
    table.append(row);
  }
  body.append(table);
}

function drawStateTimeline(panel: StateTimelinePicture, root: HTMLElement): void {
  const { frame, body } = panelFrame(panel.title, panel.box);
  root.append(frame);
  const times = page.ROW.times;
  const first = times[0] ?? 0;
  const span = (times[times.length - 1] ?? first + 1) - first;
  const measure = document.createElement('canvas').getContext('2d');
  if (measure !== null) measure.font = '13px sans-serif';
  const widest = Math.max(0, ...panel.series.map((entry) => measure?.measureText(entry.label).width ?? 150));
  const labelPx = Math.min(panel.box.width * 0.4, widest + 16);
  const bandHeight = Math.min(40, (panel.box.height - TITLE_PX - 60) / Math.max(1, panel.series.length));
  const stateOf = (value: number | null) =>
    value === null ? undefined : [...panel.states].reverse().find((state) => value >= state.from);
  panel.series.forEach((entry, index) => {
    const band = element('div', {
      position: 'absolute',
      left: `${labelPx}px`,
      right: '0',
      top: `${index * (bandHeight + 4)}px`,
      height: `${bandHeight}px`,
    });
    body.append(
      element(
        'div',
        {
          position: 'absolute',
          left: '0',
          width: `${labelPx - 8}px`,
          top: `${index * (bandHeight + 4) + bandHeight / 2 - 8}px`,
          textAlign: 'right',
          whiteSpace: 'nowrap',
          overflow: 'hidden',
        },
        entry.label,
      ),
    );
    let runStart = 0;
    for (let i = 1; i <= entry.values.length; i++) {
      const current = stateOf(entry.values[runStart] ?? null);
      if (i < entry.values.length && stateOf(entry.values[i] ?? null) === current) continue;
      if (current !== undefined) {
        const left = (((times[runStart] ?? first) - first) / span) * 100;
        const right = (((times[i] ?? times[times.length - 1] ?? first) - first) / span) * 100;
        band.append(
          element(
            'div',
            {
              position: 'absolute',
              left: `${left}%`,
              width: `${right - left}%`,
              top: '0',
              bottom: '0',
              background: current.color,
              opacity: '0.85',
              color: '#111217',
              fontSize: '12px',
              lineHeight: `${bandHeight}px`,
              paddingLeft: '4px',
              overflow: 'hidden',
              whiteSpace: 'nowrap',
              boxSizing: 'border-box',
              borderRight: '1px solid #181B1F',
            },
            right - left > 6 ? current.text : '',
          ),
        );
      }
      runStart = i;
    }
    body.append(band);
  });
  const axisTop = panel.series.length * (bandHeight + 4) + 4;
  for (let tick = 0; tick <= 4; tick++) {
    body.append(
      element(
        'div',
        {
          position: 'absolute',
          left: `calc(${labelPx}px + ${(tick / 4) * 100}% - ${(tick / 4) * labelPx}px - 24px)`,
          top: `${axisTop}px`,
          color: WEAK_TEXT,
          fontSize: '11px',
        },
        clock(first + (span * tick) / 4),
      ),
    );
  }
  const legend = element('div', { position: 'absolute', left: '0', bottom: '0', fontSize: '12px' });
  for (const state of panel.states) {
    legend.append(
      element('span', {
        display: 'inline-block',
        width: '10px',
        height: '10px',
        background: state.color,
        margin: '0 6px 0 12px',
      }),
    );
    legend.append(document.createTextNode(state.text));
  }
  body.append(legend);
}

function drawRow(row: RowPicture): void {
  Object.assign(document.body.style, {
    margin: '0',
    background: '#111217',
    color: TEXT,
    fontFamily: 'Inter, "Helvetica Neue", Arial, sans-serif',
    fontSize: '13px',
    width: `${row.widthPx}px`,
    height: `${row.heightPx}px`,
    position: 'relative',
    overflow: 'hidden',
  });
  document.body.append(
    element(
      'div',
      { position: 'absolute', left: '8px', top: '6px', fontSize: '16px', fontWeight: '500' },
      `⌄ ${row.title}`,
    ),
  );
  for (const panel of row.panels) {
    if (panel.kind === 'timeseries') drawTimeSeries(panel, document.body);
    else if (panel.kind === 'stat') drawStat(panel, document.body);
    else if (panel.kind === 'table') drawTable(panel, document.body);
    else drawStateTimeline(panel, document.body);
  }
  document.body.append(
    element(
      'div',
      { position: 'absolute', left: '8px', bottom: '6px', fontSize: '12px', color: WEAK_TEXT },
      row.caption,
    ),
  );
}

drawRow(page.ROW);

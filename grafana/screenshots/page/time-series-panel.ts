import type UPlot from 'uplot';
import type { PictureAnnotation, PictureSeries, TimeSeriesPicture } from '../row-picture.js';
import { element, GRID, HEADER_TEXT, panelFrame, TITLE_PX, uPlot, WEAK_TEXT } from './dom.js';
import { clock, formatValue } from './format-value.js';

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
const LEGEND_ROW_PX = 19;
const CALC_TITLES: Record<string, string> = { mean: 'Mean', max: 'Max', min: 'Min', lastNotNull: 'Last *' };

/** A legend calculation (`mean`, `max`, `min`, `lastNotNull`) over the values present. */
function calc(name: string, values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  if (present.length === 0) return null;
  if (name === 'max') return Math.max(...present);
  if (name === 'min') return Math.min(...present);
  if (name === 'mean') return present.reduce((sum, value) => sum + value, 0) / present.length;
  return present[present.length - 1] ?? null;
}

/**
 * Dashed lines at the points in time, shaded bands for the spans, as Grafana marks annotations. A
 * span's label starts at its band and is cut where the next span begins.
 */
function annotationHook(annotations: readonly PictureAnnotation[]) {
  return (u: UPlot) => {
    const context = u.ctx;
    const { left, top, width, height } = u.bbox;
    const x = (seconds: number) => u.valToPos(seconds, 'x', true);
    const spanStarts = annotations
      .filter((mark) => mark.endSeconds > mark.startSeconds)
      .map((mark) => x(mark.startSeconds))
      .sort((a, b) => a - b);
    context.save();
    context.font = '11px sans-serif';
    context.textAlign = 'left';
    context.textBaseline = 'alphabetic';
    for (const mark of annotations) {
      const start = x(mark.startSeconds);
      const end = x(mark.endSeconds);
      context.strokeStyle = mark.color;
      context.fillStyle = mark.color;
      if (mark.endSeconds > mark.startSeconds) {
        context.globalAlpha = 0.09;
        context.fillRect(start, top, end - start, height);
        context.globalAlpha = 0.9;
        const labelEnd = spanStarts.find((next) => next > start) ?? left + width;
        context.save();
        context.beginPath();
        context.rect(start, top, labelEnd - start - 4, 16);
        context.clip();
        context.fillText(mark.text, start + 4, top + 12);
        context.restore();
        continue;
      }
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
    context.restore();
  };
}

function chartOptions(
  panel: TimeSeriesPicture,
  series: readonly (PictureSeries & { color: string })[],
  annotations: readonly PictureAnnotation[],
  size: { width: number; height: number },
): UPlot.Options {
  const axis = {
    stroke: WEAK_TEXT,
    grid: { stroke: GRID, width: 1 },
    ticks: { show: false },
    font: '11px sans-serif',
  };
  return {
    ...size,
    legend: { show: false },
    cursor: { show: false },
    padding: [8, 28, 0, 0],
    scales: {
      x: { time: true },
      y: { range: (_u, min, max) => [Math.min(0, min), panel.max ?? (max > 0 ? max * 1.1 : 1)] },
    },
    axes: [
      { ...axis, size: 26, space: 80, values: (_u, splits) => splits.map((split) => clock(split)) },
      { ...axis, size: 72, values: (_u, splits) => splits.map((split) => formatValue(panel.unit, split)) },
    ],
    series: [
      {},
      ...series.map((entry) => ({
        label: entry.label,
        stroke: entry.color,
        width: 1.5,
        fill: `${entry.color}1A`,
        points: { show: false },
      })),
    ],
    hooks: { draw: [annotationHook(annotations)] },
  };
}

function legendRow(entry: PictureSeries & { color: string }, panel: TimeSeriesPicture): HTMLTableRowElement {
  const row = element('tr', { height: `${LEGEND_ROW_PX}px`, borderTop: `1px solid ${GRID}` });
  const name = element('td', {
    whiteSpace: 'nowrap',
    overflow: 'hidden',
    maxWidth: '0',
    textOverflow: 'ellipsis',
  });
  const swatch = { display: 'inline-block', width: '14px', height: '4px', borderRadius: '2px' };
  name.append(
    element('span', { ...swatch, background: entry.color, marginRight: '6px', verticalAlign: 'middle' }),
  );
  name.append(document.createTextNode(entry.label));
  row.append(name);
  for (const calcName of panel.legendCalcs)
    row.append(element('td', { textAlign: 'right' }, formatValue(panel.unit, calc(calcName, entry.values))));
  return row;
}

/** A time series panel: the lines over `times`, the annotations, and a table legend with its calculations. */
export function drawTimeSeries(
  root: HTMLElement,
  panel: TimeSeriesPicture,
  times: readonly number[],
  annotations: readonly PictureAnnotation[],
): void {
  const body = panelFrame(root, panel.title, panel.box);
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
    const centred = { height: `${chartHeight}px`, lineHeight: `${chartHeight}px`, textAlign: 'center' };
    chart.append(element('div', { ...centred, color: WEAK_TEXT }, 'No data'));
    return;
  }
  const size = { width: panel.box.width - 18, height: Math.max(60, chartHeight) };
  const data: UPlot.AlignedData = [[...times], ...series.map((entry) => entry.values)];
  new uPlot(chartOptions(panel, series, annotations, size), data, chart);

  const legend = element('table', {
    width: '100%',
    borderCollapse: 'collapse',
    fontSize: '12px',
    marginTop: '4px',
  });
  const header = element('tr', {});
  header.append(element('td', { height: `${LEGEND_ROW_PX}px` }, ''));
  for (const name of panel.legendCalcs)
    header.append(
      element('td', { textAlign: 'right', width: '90px', color: HEADER_TEXT }, CALC_TITLES[name] ?? name),
    );
  legend.append(header);
  for (const entry of legendRows) legend.append(legendRow(entry, panel));
  if (series.length > legendRows.length) {
    const more = element('tr', { color: WEAK_TEXT });
    more.append(element('td', {}, `+ ${series.length - legendRows.length} more`));
    legend.append(more);
  }
  body.append(legend);
}

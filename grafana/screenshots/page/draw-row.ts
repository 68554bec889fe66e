// Runs in the page (headless Chromium), not in Node: row-page.ts transpiles this folder to
// JavaScript beside the page, which loads uPlot's browser build, then this module. It draws
// `globalThis.ROW` the way Grafana's dark theme draws the row's panels.
import type { RowPicture } from '../row-picture.js';
import { element, TEXT, WEAK_TEXT } from './dom.js';
import { drawStat } from './stat-panel.js';
import { drawStateTimeline } from './state-timeline-panel.js';
import { drawTable } from './table-panel.js';
import { drawTimeSeries } from './time-series-panel.js';

function drawRow(row: RowPicture): void {
  const page = document.body;
  Object.assign(page.style, {
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
  const title = { position: 'absolute', left: '8px', top: '6px', fontSize: '16px', fontWeight: '500' };
  page.append(element('div', title, `⌄ ${row.title}`));
  for (const panel of row.panels) {
    if (panel.kind === 'timeseries') drawTimeSeries(page, panel, row.times, row.annotations);
    else if (panel.kind === 'stat') drawStat(page, panel, row.times);
    else if (panel.kind === 'table') drawTable(page, panel);
    else drawStateTimeline(page, panel, row.times);
  }
  const caption = { position: 'absolute', left: '8px', bottom: '6px', fontSize: '12px', color: WEAK_TEXT };
  page.append(element('div', caption, row.caption));
}

drawRow((globalThis as unknown as { ROW: RowPicture }).ROW);

import type UPlot from 'uplot';
import type { StatPicture } from '../row-picture.js';
import { element, panelFrame, TITLE_PX, uPlot } from './dom.js';
import { formatValue } from './format-value.js';

/** A stat panel: the value, big and in its colour, over its sparkline when it has one. */
export function drawStat(root: HTMLElement, panel: StatPicture, times: readonly number[]): void {
  const body = panelFrame(root, panel.title, panel.box);
  const height = panel.box.height - TITLE_PX - 8;
  const fontPx = Math.min(height * 0.32, (panel.box.width - 20) / 4.2);
  const top = panel.sparkline === undefined ? height / 2 - fontPx * 0.65 : height * 0.12;
  body.append(
    element(
      'div',
      {
        position: 'absolute',
        left: '0',
        right: '0',
        top: `${top}px`,
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
  const max = Math.max(0, ...panel.sparkline.filter((value): value is number => value !== null));
  const options: UPlot.Options = {
    width: panel.box.width - 2,
    height: Math.round(height * 0.5),
    legend: { show: false },
    cursor: { show: false },
    padding: [0, 0, 0, 0],
    scales: { x: { time: true }, y: { range: [0, max > 0 ? max * 1.05 : 1] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: panel.color, width: 1.5, fill: `${panel.color}26`, points: { show: false } }],
  };
  new uPlot(options, [[...times], panel.sparkline], spark);
}

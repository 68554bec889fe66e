import type { StateTimelinePicture } from '../row-picture.js';
import { element, panelFrame, TITLE_PX, WEAK_TEXT } from './dom.js';
import { clock } from './format-value.js';

type State = StateTimelinePicture['states'][number];

/** Consecutive points in the same state, as spans of the time axis (from index, to index). */
function runsOf(
  values: readonly (number | null)[],
  states: readonly State[],
): { state: State; from: number; to: number }[] {
  const stateOf = (value: number | null) =>
    value === null ? undefined : [...states].reverse().find((state) => value >= state.from);
  const runs: { state: State; from: number; to: number }[] = [];
  let from = 0;
  for (let index = 1; index <= values.length; index++) {
    const current = stateOf(values[from] ?? null);
    if (index < values.length && stateOf(values[index] ?? null) === current) continue;
    if (current !== undefined) runs.push({ state: current, from, to: Math.min(index, values.length - 1) });
    from = index;
  }
  return runs;
}

/** A state timeline: one band per series, coloured and named by state, over a time axis and a legend. */
export function drawStateTimeline(
  root: HTMLElement,
  panel: StateTimelinePicture,
  times: readonly number[],
): void {
  const body = panelFrame(root, panel.title, panel.box);
  const first = times[0] ?? 0;
  const span = Math.max(1, (times[times.length - 1] ?? first) - first);
  const measure = document.createElement('canvas').getContext('2d');
  if (measure !== null) measure.font = '13px sans-serif';
  const widest = Math.max(0, ...panel.series.map((entry) => measure?.measureText(entry.label).width ?? 150));
  const labelPx = Math.min(panel.box.width * 0.4, widest + 16);
  const bandPx = Math.min(40, (panel.box.height - TITLE_PX - 60) / Math.max(1, panel.series.length));
  const percent = (index: number) => (((times[index] ?? first) - first) / span) * 100;
  panel.series.forEach((entry, row) => {
    const top = row * (bandPx + 4);
    const label = {
      position: 'absolute',
      left: '0',
      width: `${labelPx - 8}px`,
      top: `${top + bandPx / 2 - 8}px`,
    };
    body.append(
      element('div', { ...label, textAlign: 'right', whiteSpace: 'nowrap', overflow: 'hidden' }, entry.label),
    );
    const band = element('div', { position: 'absolute', left: `${labelPx}px`, right: '0', top: `${top}px` });
    band.style.height = `${bandPx}px`;
    for (const { state, from, to } of runsOf(entry.values, panel.states)) {
      const left = percent(from);
      const width = percent(to) - left;
      const style = {
        position: 'absolute',
        left: `${left}%`,
        width: `${width}%`,
        top: '0',
        bottom: '0',
        background: state.color,
        opacity: '0.85',
        color: '#111217',
        fontSize: '12px',
        lineHeight: `${bandPx}px`,
        paddingLeft: '4px',
        overflow: 'hidden',
        whiteSpace: 'nowrap',
        boxSizing: 'border-box',
        borderRight: '1px solid #181B1F',
      };
      band.append(element('div', style, width > 6 ? state.text : ''));
    }
    body.append(band);
  });
  const axisTop = panel.series.length * (bandPx + 4) + 4;
  // The first tick's label starts at the bands, the last one ends with them, the others are centred.
  for (let tick = 0; tick <= 4; tick++) {
    const share = tick / 4;
    const left = `calc(${labelPx}px + (100% - ${labelPx}px) * ${share})`;
    const transform = `translateX(${-share * 100}%)`;
    const style = {
      position: 'absolute',
      left,
      transform,
      top: `${axisTop}px`,
      color: WEAK_TEXT,
      fontSize: '11px',
    };
    body.append(element('div', style, clock(first + span * share)));
  }
  const legend = element('div', { position: 'absolute', left: '0', bottom: '0', fontSize: '12px' });
  for (const state of panel.states) {
    const swatch = { display: 'inline-block', width: '10px', height: '10px', margin: '0 6px 0 12px' };
    legend.append(element('span', { ...swatch, background: state.color }));
    legend.append(document.createTextNode(state.text));
  }
  body.append(legend);
}

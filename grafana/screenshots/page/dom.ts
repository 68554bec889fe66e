import type UPlot from 'uplot';
import type { PanelBox } from '../row-picture.js';

/** uPlot's browser build, loaded by the page before this module. */
export const uPlot = (globalThis as unknown as { uPlot: typeof UPlot }).uPlot;

// Grafana's dark theme.
export const TEXT = '#CCCCDC';
export const WEAK_TEXT = '#8E8E9A';
export const HEADER_TEXT = '#6E9FFF';
export const GRID = 'rgba(204, 204, 220, 0.08)';
const PANEL_BACKGROUND = '#181B1F';
export const TITLE_PX = 30;

/** A new element with inline `style` and, when given, its text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  style: Partial<CSSStyleDeclaration>,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A panel as Grafana frames it, placed at `box` in `root`: its title bar, and the body to draw in. */
export function panelFrame(root: HTMLElement, title: string, box: PanelBox): HTMLDivElement {
  const frame = element('div', {
    position: 'absolute',
    left: `${box.left}px`,
    top: `${box.top}px`,
    width: `${box.width}px`,
    height: `${box.height}px`,
    background: PANEL_BACKGROUND,
    border: '1px solid rgba(204, 204, 220, 0.12)',
    borderRadius: '2px',
    boxSizing: 'border-box',
    overflow: 'hidden',
  });
  const titleStyle = { height: `${TITLE_PX}px`, lineHeight: `${TITLE_PX}px`, padding: '0 8px' };
  frame.append(element('div', { ...titleStyle, fontWeight: '500', fontSize: '14px' }, title));
  const body = element('div', {
    position: 'absolute',
    left: '8px',
    right: '8px',
    top: `${TITLE_PX}px`,
    bottom: '6px',
  });
  frame.append(body);
  root.append(frame);
  return body;
}

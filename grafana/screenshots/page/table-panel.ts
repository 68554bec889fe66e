import type { TablePicture } from '../row-picture.js';
import { element, GRID, HEADER_TEXT, panelFrame } from './dom.js';
import { formatValue } from './format-value.js';

/** A table panel: a header, then one row per entry, numbers right-aligned in their unit. */
export function drawTable(root: HTMLElement, panel: TablePicture): void {
  const body = panelFrame(root, panel.title, panel.box);
  const table = element('table', { width: '100%', borderCollapse: 'collapse', fontSize: '13px' });
  const align = (unit: string) => (unit === 'none' ? 'left' : 'right');
  const header = element('tr', {});
  for (const column of panel.columns) {
    const style = {
      textAlign: align(column.unit),
      color: HEADER_TEXT,
      fontWeight: '500',
      padding: '6px 8px',
    };
    header.append(
      element('th', { ...style, borderBottom: '1px solid rgba(204, 204, 220, 0.15)' }, column.name),
    );
  }
  table.append(header);
  for (const cells of panel.rows) {
    const row = element('tr', {});
    panel.columns.forEach((column, index) => {
      const cell = cells[index] ?? null;
      const text = typeof cell === 'number' ? formatValue(column.unit, cell, column.decimals) : (cell ?? '-');
      const style = { textAlign: align(column.unit), padding: '5px 8px', borderBottom: `1px solid ${GRID}` };
      row.append(element('td', style, text));
    });
    table.append(row);
  }
  body.append(table);
}

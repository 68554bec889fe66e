import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import ts from 'typescript';
import type { RowPicture } from './row-picture.js';

const require = createRequire(import.meta.url);

/**
 * A self-contained HTML page that draws `row`: uPlot's browser build and stylesheet, the row's data
 * as JSON, and draw-row.ts transpiled to JavaScript, all inline (the page loads nothing).
 */
export async function rowPage(row: RowPicture): Promise<string> {
  const [uPlotScript, uPlotStyle, drawSource] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    readFile(new URL('./draw-row.ts', import.meta.url), 'utf8'),
  ]);
  const drawScript = ts.transpileModule(drawSource, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
  }).outputText;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(row.title)}</title>
<style>${uPlotStyle}</style>
</head><body>
<script>${uPlotScript}</script>
<script>globalThis.ROW = ${inlineJson(row)};</script>
<script type="module">${drawScript}</script>
</body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

// JSON inside a <script> element must not close it.
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

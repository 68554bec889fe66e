import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { RowPicture } from './row-picture.js';

const require = createRequire(import.meta.url);
const PAGE_SOURCES = fileURLToPath(new URL('./page/', import.meta.url));

/**
 * Writes into `directory` what every row page loads: uPlot's browser build and stylesheet, and the
 * page modules (`page/*.ts`) transpiled to JavaScript, imports kept (Chromium loads them as modules).
 */
export async function writePageAssets(directory: string): Promise<void> {
  await mkdir(join(directory, 'page'), { recursive: true });
  await copyFile(require.resolve('uplot/dist/uPlot.iife.min.js'), join(directory, 'uPlot.iife.min.js'));
  await copyFile(require.resolve('uplot/dist/uPlot.min.css'), join(directory, 'uPlot.min.css'));
  for (const file of await readdir(PAGE_SOURCES)) {
    if (!file.endsWith('.ts')) continue;
    const { outputText } = ts.transpileModule(await readFile(join(PAGE_SOURCES, file), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
    });
    await writeFile(join(directory, 'page', file.replace(/\.ts$/, '.js')), outputText);
  }
}

/** The page of one row, in the directory of {@link writePageAssets}: the row's data inline. */
export function rowPage(row: RowPicture): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(row.title)}</title>
<link rel="stylesheet" href="uPlot.min.css">
</head><body>
<script src="uPlot.iife.min.js"></script>
<script>globalThis.ROW = ${inlineJson(row)};</script>
<script type="module" src="page/draw-row.js"></script>
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

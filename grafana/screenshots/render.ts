// `npm run screenshots`: draws each row of the dashboard from a scripted fault scenario against a
// real Prometheus, into grafana/screenshots/<row>.png. Needs redis-server, prometheus and chromium
// (Debian packages) on PATH; takes about three minutes. `-- --scale 0.2` runs a shortened scenario.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readDashboard } from '../../spec/unit/observability/read-dashboard.js';
import { screenshot } from './chromium.js';
import { runFaultScenario } from './fault-scenario.js';
import { rowPage, writePageAssets } from './row-page.js';
import { dashboardRows, pictureOfRow } from './row-pictures.js';

const WIDTH_PX = 1280;
const STEP_SECONDS = 2;
// Grafana's $__rate_interval for 1 s scrapes is 4 s; 10 s draws the same shapes with less noise.
const RATE_INTERVAL = '10s';
const PHASE_COLOR = '#8AB8FF';
const OUTPUT_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The file name of a row's picture: `Redis health` → `redis-health.png`. */
function fileNameOf(title: string): string {
  return `${title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}.png`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' } } });
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale must be in (0, 1], got ${values.scale}`);
  console.log(`screenshots: running the fault scenario (${Math.round(165 * scale)} s)…`);
  const run = await runFaultScenario(scale);
  const pages = await mkdtemp(join(tmpdir(), 'screenshots-pages-'));
  try {
    await writePageAssets(pages);
    const dashboard = readDashboard();
    const marks = run.phases.map((phase) => ({ ...phase, text: phase.name, color: PHASE_COLOR }));
    const window = {
      startSeconds: Math.floor(run.startSeconds),
      endSeconds: Math.ceil(run.endSeconds),
      stepSeconds: STEP_SECONDS,
      rateInterval: RATE_INTERVAL,
    };
    const caption =
      `The demo app (src/demo) over a real Redis, scraped every second by a real Prometheus, under a scripted fault scenario ` +
      `(grafana/screenshots/render.ts); rate windows of ${RATE_INTERVAL}; shaded: the faults; dashed red: circuit openings.`;
    for (const row of dashboardRows(dashboard)) {
      const picture = await pictureOfRow(run.prometheus, dashboard, row, window, {
        widthPx: WIDTH_PX,
        marks,
        caption,
      });
      const empty = picture.panels.filter(
        (panel) =>
          (panel.kind === 'timeseries' || panel.kind === 'state-timeline') && panel.series.length === 0,
      );
      for (const panel of empty) console.warn(`screenshots: ${row.title} / ${panel.title} has no data`);
      const html = join(pages, `${fileNameOf(row.title)}.html`);
      await writeFile(html, rowPage(picture));
      const png = join(OUTPUT_DIR, fileNameOf(row.title));
      await screenshot(html, png, picture.widthPx, picture.heightPx);
      console.log(`screenshots: ${png} (${Math.round((await stat(png)).size / 1024)} KiB)`);
    }
  } finally {
    await rm(pages, { recursive: true, force: true });
    await run.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Longest wait for one screenshot; the page loads nothing from the network. */
const SCREENSHOT_TIMEOUT_MS = 120_000;

/**
 * Screenshots the page at `htmlPath` into `pngPath`, `width` × `height` pixels, with Debian's
 * headless `chromium` (apt-get install -y chromium), in a fresh profile that talks to no server.
 * `--virtual-time-budget` lets the page's modules load and draw before the picture is taken.
 */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  width: number,
  height: number,
): Promise<void> {
  const profile = await mkdtemp(join(tmpdir(), 'screenshots-chromium-'));
  try {
    await run(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        // The page loads its modules from beside it (file://).
        '--allow-file-access-from-files',
        '--force-device-scale-factor=1',
        '--virtual-time-budget=5000',
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        `--screenshot=${pngPath}`,
        pathToFileURL(htmlPath).href,
      ],
      { timeout: SCREENSHOT_TIMEOUT_MS },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('chromium is not on PATH: install it (Debian: apt-get install -y chromium)');
    throw error;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
  if ((await stat(pngPath)).size === 0) throw new Error(`chromium wrote an empty ${pngPath}`);
}

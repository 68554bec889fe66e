import { readFileSync } from 'node:fs';

/**
 * The version in this package's `package.json`, which npm always ships: it sits two folders up from
 * this module both in `src/observability/` and in the built `dist/observability/`. `'unknown'` when it
 * cannot be read (a bundler that left it behind), so that metrics never fail for a label.
 */
export function packageVersion(manifest: URL = new URL('../../package.json', import.meta.url)): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    const version = (parsed as { version?: unknown } | null)?.version;
    return typeof version === 'string' && version.length > 0 ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

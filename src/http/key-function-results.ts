import { CacheOptionError } from '../errors.js';

/** The result of a route's `key` function, checked: a non-empty string, else a `TypeError`. */
export function customTarget(target: unknown): string {
  if (typeof target !== 'string' || target.length === 0) {
    throw new CacheOptionError(
      `responseCache: \`key\` must return a non-empty string, got ${describe(target)}`,
    );
  }
  return target;
}

/**
 * The result of a route's `credentialKey` function, checked: a non-empty string or a finite number (a
 * numeric user id) is an identity, as text; `undefined` or `null` means none; anything else is a
 * `TypeError` (an empty string would put every user in one entry).
 */
export function credentialOf(credential: unknown): string | undefined {
  if (credential === undefined || credential === null) return undefined;
  if (typeof credential === 'string' && credential.length > 0) return credential;
  if (typeof credential === 'number' && Number.isFinite(credential)) return String(credential);
  throw new CacheOptionError(
    `responseCache: \`credentialKey\` must return a non-empty string, a finite number or undefined, got ${describe(credential)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

import { CacheOptionError } from '../errors.js';

/** The result of a route's `key` function, checked: a non-empty string, else a `TypeError`. */
export function customTarget(target: unknown): string {
  if (typeof target !== 'string' || target.length === 0) {
    throw new CacheOptionError(
      `responseCache: \`key\` must return a non-empty string, got ${String(target)}`,
    );
  }
  return target;
}

/** The result of a route's `credentialKey` function, checked: a string or `undefined`, else a `TypeError`. */
export function credentialOf(credential: unknown): string | undefined {
  if (credential === undefined || typeof credential === 'string') return credential;
  throw new CacheOptionError('responseCache: `credentialKey` must return a string or undefined');
}

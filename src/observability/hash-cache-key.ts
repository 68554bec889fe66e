import { createHash } from 'node:crypto';

/**
 * A short, stable stand-in for a cache key in logs: keys can hold user data (ids, e-mails, query
 * strings), a hash still lets one correlate entries about the same key. 16 hex characters.
 */
export function hashCacheKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

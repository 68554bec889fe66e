import type { IncomingHttpHeaders } from 'node:http';
import { CacheOptionError } from '../errors.js';
import { buildCacheKey, normalizeTarget } from './build-cache-key.js';

/** Which cached GET response {@link responseCacheKey} names. */
export interface ResponseCacheKeyTarget {
  /** Full request path and query, as clients send it (`/api/items/1?b=2&a=1`; query order does not matter). */
  url?: string;
  /** For routes with a custom `key` option: the string it returns for the request, instead of `url`. */
  key?: string;
  /**
   * For routes with `varyHeaders`: the request's value of each of them, by lower-case name
   * (`undefined` for a request without it).
   */
  headers?: Readonly<Record<string, string | undefined>>;
  /** For routes with `credentialKey`: what it returns for the user. */
  credential?: string;
}

/**
 * The cache key under which `responseCache` stores the GET response for `target`, for
 * `cache.invalidate(responseCacheKey('/api/items/1'))` in mutation routes. For a response with
 * `Vary`, this key holds the record of its variants, so deleting it makes all of them unreachable.
 */
export function responseCacheKey(target: string | ResponseCacheKeyTarget): string {
  const { url, key, headers = {}, credential } = typeof target === 'string' ? { url: target } : target;
  if ((url === undefined) === (key === undefined)) {
    throw new CacheOptionError('responseCacheKey: give exactly one of `url` and `key`');
  }
  const requestTarget = url === undefined ? key : normalizeTarget(url);
  if (typeof requestTarget !== 'string' || requestTarget.length === 0) {
    throw new CacheOptionError('responseCacheKey: `url` or `key` must be a non-empty string');
  }
  const lowerCaseHeaders: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) lowerCaseHeaders[name.toLowerCase()] = value;
  const names = Object.keys(lowerCaseHeaders).sort();
  return buildCacheKey(requestTarget, names, lowerCaseHeaders, credential);
}

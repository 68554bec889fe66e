import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { CacheOptionError } from '../errors.js';
import { buildCacheKey } from './build-cache-key.js';
import { parseOrigin, type RequestOrigin, requestOrigin } from './request-origin.js';
import { normalizeTarget } from './request-target.js';

/** Which cached GET response {@link responseCacheKey} names. */
export interface ResponseCacheKeyTarget {
  /**
   * The URL as clients request it: absolute (`https://shop.example/api/items/1?b=2&a=1`; query order
   * does not matter), or a path and query with `origin`.
   */
  url?: string;
  /** For routes with a custom `key` option: the string it returns for the request, instead of `url`. */
  key?: string;
  /**
   * The scheme and host the response was requested at: `https://shop.example` (with the port when
   * clients send one), or an Express request whose origin it is, such as the mutation route's own `req`.
   * Required unless `url` is absolute: keys hold the origin, so that one host's entry is never another's.
   */
  origin?: string | Request;
  /**
   * For routes with `varyHeaders`: the request's value of each of them, by lower-case name
   * (`undefined` for a request without it).
   */
  headers?: Readonly<Record<string, string | undefined>>;
  /** For routes with `credentialKey`: what it returns for the user (a numeric id as it is). */
  credential?: string | number;
}

/**
 * The cache key under which `responseCache` stores the GET response for `target`, for
 * `cache.invalidate(responseCacheKey('https://shop.example/api/items/1'))`, or in a mutation route
 * `cache.invalidate(responseCacheKey({ url: '/api/items/1', origin: req }))`. For a response with `Vary`,
 * this key holds the record of its variants, so deleting it makes all of them unreachable.
 */
export function responseCacheKey(target: string | ResponseCacheKeyTarget): string {
  const {
    url,
    key,
    origin,
    headers = {},
    credential,
  } = typeof target === 'string' ? { url: target, origin: undefined } : target;
  if ((url === undefined) === (key === undefined)) fail('give exactly one of `url` and `key`');
  const requestTarget = url === undefined ? key : url;
  if (typeof requestTarget !== 'string' || requestTarget.length === 0) {
    fail('`url` or `key` must be a non-empty string');
  }
  const absolute = url === undefined ? undefined : splitAbsoluteUrl(url);
  const keyOrigin = originOf(origin) ?? absolute?.origin;
  if (keyOrigin === undefined) {
    fail(
      'keys hold the origin: give an absolute `url` (`https://shop.example/api/items/1`) or an `origin` (`https://shop.example`, or the route’s `req`)',
    );
  }
  const keyTarget = url === undefined ? requestTarget : normalizeTarget(absolute?.pathAndQuery ?? url);
  const lowerCaseHeaders: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) lowerCaseHeaders[name.toLowerCase()] = value;
  const names = Object.keys(lowerCaseHeaders).sort();
  return buildCacheKey(
    keyOrigin,
    keyTarget,
    names,
    lowerCaseHeaders,
    credential === undefined ? undefined : String(credential),
  );
}

function originOf(origin: string | Request | undefined): RequestOrigin | undefined {
  if (origin === undefined) return undefined;
  if (typeof origin === 'object' && origin !== null && typeof origin.headers === 'object') {
    return requestOrigin(origin);
  }
  const parsed = typeof origin === 'string' ? parseOrigin(origin) : undefined;
  if (parsed === undefined) {
    fail(
      `\`origin\` must be a scheme and host (\`https://shop.example\`) or a request, got ${String(origin)}`,
    );
  }
  return parsed;
}

function splitAbsoluteUrl(url: string): { origin: RequestOrigin; pathAndQuery: string } | undefined {
  if (url.startsWith('/')) return undefined;
  const origin = parseOrigin(url);
  if (origin === undefined) return undefined;
  const rest = url.slice(url.indexOf('://') + 3);
  const pathAt = rest.search(/[/?#]/);
  const pathAndQuery = pathAt === -1 ? '/' : rest.slice(pathAt);
  return { origin, pathAndQuery: pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}` };
}

function fail(message: string): never {
  throw new CacheOptionError(`responseCacheKey: ${message}`);
}

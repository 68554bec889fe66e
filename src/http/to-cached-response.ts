import type { Request, Response } from 'express';
import { CacheOptionError } from '../errors.js';
import { tagsAddedTo } from './cache-tags.js';
import { type CachedResponse, findStoredHeader, type StoredHeader } from './cached-response.js';
import type { CapturedResponse } from './capture-response.js';
import { computeEntityTag } from './entity-tag.js';
import { responseFreshness } from './freshness.js';
import type { ResolvedResponseCacheConfig } from './response-cache-options.js';
import { notStorableReason, parseVary } from './response-policy.js';
import { freshenedHeaders } from './revalidation.js';
import type { RouteCaching } from './route-caching.js';
import { surrogateKeysOf } from './surrogate-keys.js';

/** `createCache`'s default `ttl`, for an engine that does not say its own. */
const DEFAULT_TTL_SECONDS = 60;

/** A response ready to store, and the request headers that select it (route `varyHeaders` ∪ `Vary`). */
export interface StorableResponse {
  response: CachedResponse;
  /** Sorted, lower-case. */
  varyNames: readonly string[];
}

/**
 * Turns a captured response of `route` into what is stored: its freshness (0 means "do not store", then the
 * result is `undefined`), tags, route pattern and ETag (computed from the body when the handler set
 * none, so that conditional requests can be answered on hits). Throws a `TypeError` when a route's
 * `ttl` or `tags` function returns something unusable.
 */
export function toCachedResponse(
  captured: CapturedResponse,
  req: Request,
  res: Response,
  caching: Pick<RouteCaching, 'cache' | 'config'>,
  route: string,
  requestTimeMs: number,
): StorableResponse | undefined {
  const { config } = caching;
  const freshness = responseFreshness(
    captured,
    freshnessPolicy(req, res, caching),
    requestTimeMs,
    Date.now(),
  );
  if (freshness.lifetimeSeconds === 0) return undefined;
  const tags = tagsOf(req, res, config);
  const { status, headers, body } = captured;
  const storedEtag = findStoredHeader(headers, 'etag');
  const etag = typeof storedEtag === 'string' ? storedEtag : computeEntityTag(body);
  // A new array of exactly its length: the captured one grew by `push`, with room for a dozen more
  // headers, and the in-process tier would hold that room for the entry's whole life.
  const heldHeaders = storedEtag === undefined ? headers.concat([['ETag', etag]]) : headers.slice();
  const vary = parseVary(captured.vary);
  const varyNames =
    vary === '*' || vary.length === 0
      ? config.varyHeaders
      : [...new Set([...config.varyHeaders, ...vary])].sort();
  const response: CachedResponse = {
    kind: 'response',
    status,
    headers: heldHeaders,
    body,
    etag,
    route,
    ttlSeconds: freshness.lifetimeSeconds,
    ageSeconds: freshness.initialAgeSeconds,
    staleTtlSeconds: freshness.staleTtlSeconds,
    tags,
  };
  return { response, varyNames };
}

/**
 * A stale response made current again by a `304 Not Modified` (RFC 9111 §4.3.4): its headers
 * updated with the 304's, its freshness worked out afresh from them, its tags as the route gives them
 * now. `undefined` when it must not be renewed: the 304 sets a cookie (whoever set it), the updated
 * headers forbid storing it (`no-store`, `private`, `no-cache`, `Vary: *`), its `Vary` changed, or it
 * is not fresh at all. The route's `ttl` and `tags` functions see the stored status, not 304.
 */
export function freshenedResponse(
  stale: CachedResponse,
  notModified: readonly StoredHeader[],
  req: Request,
  res: Response,
  caching: Pick<RouteCaching, 'cache' | 'config'>,
  requestTimeMs: number,
): CachedResponse | undefined {
  if (res.getHeader('set-cookie') !== undefined) return undefined;
  const headers = freshenedHeaders(stale.headers, notModified);
  const updated = {
    statusCode: stale.status,
    getHeader: (name: string) => headerValue(findStoredHeader(headers, name)),
  };
  if (notStorableReason(updated, caching.config.storage) !== undefined) return undefined;
  const varyBefore = parseVary(headerValue(findStoredHeader(stale.headers, 'vary')));
  const varyAfter = parseVary(updated.getHeader('vary'));
  if (JSON.stringify(varyBefore) !== JSON.stringify(varyAfter)) return undefined;
  const notModifiedStatus = res.statusCode;
  res.statusCode = stale.status;
  try {
    return freshenedWithPolicy(stale, headers, req, res, caching, requestTimeMs);
  } finally {
    res.statusCode = notModifiedStatus;
  }
}

function freshenedWithPolicy(
  stale: CachedResponse,
  headers: StoredHeader[],
  req: Request,
  res: Response,
  caching: Pick<RouteCaching, 'cache' | 'config'>,
  requestTimeMs: number,
): CachedResponse | undefined {
  const freshness = responseFreshness(
    {
      cacheControl: headerValue(findStoredHeader(headers, 'cache-control')),
      expires: headerValue(findStoredHeader(headers, 'expires')),
      date: res.getHeader('date'),
      age: res.getHeader('age'),
    },
    freshnessPolicy(req, res, caching),
    requestTimeMs,
    Date.now(),
  );
  if (freshness.lifetimeSeconds === 0) return undefined;
  const etag = findStoredHeader(headers, 'etag');
  return {
    ...stale,
    headers,
    etag: typeof etag === 'string' ? etag : stale.etag,
    ttlSeconds: freshness.lifetimeSeconds,
    ageSeconds: freshness.initialAgeSeconds,
    staleTtlSeconds: freshness.staleTtlSeconds,
    tags: tagsOf(req, res, caching.config),
  };
}

function freshnessPolicy(
  req: Request,
  res: Response,
  { cache, config }: Pick<RouteCaching, 'cache' | 'config'>,
) {
  return {
    fromCacheControl: config.ttlFromCacheControl,
    routeTtlSeconds: routeTtlOf(req, res, config) ?? cache.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS,
    staleWhileRevalidate: cache.staleWhileRevalidate ?? true,
  };
}

function routeTtlOf(req: Request, res: Response, config: ResolvedResponseCacheConfig): number | undefined {
  const ttl = typeof config.ttl === 'function' ? config.ttl(req, res) : config.ttl;
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw new CacheOptionError(`responseCache: \`ttl\` must give a number of at least 0, got ${String(ttl)}`);
  }
  return ttl;
}

// One empty list for every untagged response: the in-process tier holds the tags with the response.
const NO_TAGS: readonly string[] = Object.freeze([]);

function tagsOf(req: Request, res: Response, config: ResolvedResponseCacheConfig): readonly string[] {
  const { tags } = config;
  const routeTags = typeof tags === 'function' ? tags(req, res) : (tags ?? NO_TAGS);
  if (!Array.isArray(routeTags) || !routeTags.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw new CacheOptionError('responseCache: `tags` must give an array of non-empty strings');
  }
  const added = tagsAddedTo(res);
  const fromHeaders = surrogateKeysOf(res);
  if (fromHeaders.length === 0) return added.length === 0 ? routeTags : [...routeTags, ...added];
  // Headers often repeat what the route or `addCacheTags` gave: each tag is indexed once.
  return [...new Set([...routeTags, ...added, ...fromHeaders])];
}

function headerValue(value: string | readonly string[] | undefined): string | string[] | undefined {
  return value === undefined || typeof value === 'string' ? value : [...value];
}

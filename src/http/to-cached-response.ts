import type { Request, Response } from 'express';
import { CacheOptionError } from '../errors.js';
import { tagsAddedTo } from './cache-tags.js';
import { type CachedResponse, findStoredHeader } from './cached-response.js';
import type { CapturedResponse } from './capture-response.js';
import { computeEntityTag } from './entity-tag.js';
import type { ResolvedResponseCacheConfig } from './response-cache-options.js';
import { cacheControlTtlSeconds, parseCacheControl, parseVary } from './response-policy.js';

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
  config: ResolvedResponseCacheConfig,
  route: string,
): StorableResponse | undefined {
  const ttlSeconds = ttlSecondsOf(captured, req, res, config);
  if (ttlSeconds === 0) return undefined;
  const tags = tagsOf(req, res, config);
  const { status, headers, body } = captured;
  const storedEtag = findStoredHeader(headers, 'etag');
  const etag = typeof storedEtag === 'string' ? storedEtag : computeEntityTag(body);
  if (storedEtag === undefined) headers.push(['ETag', etag]);
  const vary = parseVary(captured.vary);
  const varyNames =
    vary === '*' || vary.length === 0
      ? config.varyHeaders
      : [...new Set([...config.varyHeaders, ...vary])].sort();
  return {
    response: { kind: 'response', status, headers, body, etag, route, ttlSeconds, tags },
    varyNames,
  };
}

function ttlSecondsOf(
  captured: CapturedResponse,
  req: Request,
  res: Response,
  config: ResolvedResponseCacheConfig,
): number | undefined {
  if (config.ttlFromCacheControl) {
    const fromHeader = cacheControlTtlSeconds(parseCacheControl(captured.cacheControl));
    if (fromHeader !== undefined) return fromHeader;
  }
  const ttl = typeof config.ttl === 'function' ? config.ttl(req, res) : config.ttl;
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw new CacheOptionError(`responseCache: \`ttl\` must give a number of at least 0, got ${String(ttl)}`);
  }
  return ttl;
}

function tagsOf(req: Request, res: Response, config: ResolvedResponseCacheConfig): readonly string[] {
  const { tags } = config;
  const routeTags = typeof tags === 'function' ? tags(req, res) : (tags ?? []);
  if (!Array.isArray(routeTags) || !routeTags.every((tag) => typeof tag === 'string' && tag !== '')) {
    throw new CacheOptionError('responseCache: `tags` must give an array of non-empty strings');
  }
  const added = tagsAddedTo(res);
  return added.length === 0 ? routeTags : [...routeTags, ...added];
}

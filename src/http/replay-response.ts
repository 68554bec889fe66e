import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { appendCacheStatus } from './cache-status.js';
import { type CachedResponse, findStoredHeader } from './cached-response.js';
import { matchesIfNoneMatch } from './entity-tag.js';
import { removeSurrogateHeaders, type SurrogateHeaders } from './surrogate-keys.js';

/** The `X-Cache` value of a replayed response. */
export type ReplayLabel = 'HIT' | 'STALE' | 'MISS';

// RFC 9110 §15.4.5: a 304 carries the fields a 200 would have among these (Date is added by Node).
const NOT_MODIFIED_HEADERS: ReadonlySet<string> = new Set([
  'cache-control',
  'content-location',
  'etag',
  'expires',
  'vary',
]);

/**
 * Sends `cached` in one `res.end` call: its status, headers and exact body bytes (none for HEAD,
 * RFC 9110 §9.3.2), with `X-Cache`, `Age` (RFC 9111 §5.1) when known, and `Content-Length` of the
 * stored body. A matching conditional request gets 304 Not Modified instead. With `surrogateHeaders`
 * `'strip'`, no `Surrogate-Key` or `Cache-Tag` goes out, stored or set by earlier middleware.
 */
export function replayResponse(
  req: Request,
  res: Response,
  cached: CachedResponse,
  label: ReplayLabel,
  ageSeconds: number | undefined,
  cacheStatus?: string,
  surrogateHeaders: SurrogateHeaders = 'keep',
): void {
  const notModified = isNotModified(req.headers, cached);
  res.statusCode = notModified ? 304 : cached.status;
  for (const [name, value] of cached.headers) {
    if (notModified && !NOT_MODIFIED_HEADERS.has(name.toLowerCase())) continue;
    if (Array.isArray(value) && value.length === 0) res.removeHeader(name);
    else res.setHeader(name, value);
  }
  if (surrogateHeaders === 'strip') removeSurrogateHeaders(res);
  res.setHeader('X-Cache', label);
  if (cacheStatus !== undefined) appendCacheStatus(res, cacheStatus);
  if (ageSeconds !== undefined) res.setHeader('Age', ageSeconds);
  if (notModified) {
    res.end();
    return;
  }
  // RFC 9110 §8.6: no Content-Length on 204.
  if (cached.status !== 204) res.setHeader('Content-Length', cached.body.length);
  if (req.method === 'HEAD') res.end();
  else res.end(cached.body);
}

/**
 * Whether a request for `cached` is answered with 304 Not Modified (RFC 9110 §13.2.2, for GET and
 * HEAD): `If-None-Match` decides when present (§13.1.2); only without it does `If-Modified-Since`
 * compare against `Last-Modified` (§13.1.3). Conditions apply only to 2xx responses (§13.2.1).
 */
export function isNotModified(headers: IncomingHttpHeaders, cached: CachedResponse): boolean {
  if (cached.status < 200 || cached.status > 299) return false;
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return cached.etag !== undefined && matchesIfNoneMatch(ifNoneMatch, cached.etag);
  }
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const lastModified = findStoredHeader(cached.headers, 'last-modified');
  if (typeof lastModified !== 'string') return false;
  const sinceMs = Date.parse(ifModifiedSince);
  const lastModifiedMs = Date.parse(lastModified);
  // §13.1.3: an invalid date makes the condition false.
  return !Number.isNaN(sinceMs) && !Number.isNaN(lastModifiedMs) && lastModifiedMs <= sinceMs;
}

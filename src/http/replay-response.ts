import type { Request, Response } from 'express';
import { appendCacheStatus } from './cache-status.js';
import type { CachedResponse } from './cached-response.js';
import { isNotModified } from './conditional-request.js';

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
 * stored body. A matching conditional request gets 304 Not Modified instead.
 */
export function replayResponse(
  req: Request,
  res: Response,
  cached: CachedResponse,
  label: ReplayLabel,
  ageSeconds: number | undefined,
  cacheStatus?: string,
): void {
  const notModified = isNotModified(req.headers, cached);
  res.statusCode = notModified ? 304 : cached.status;
  for (const [name, value] of cached.headers) {
    if (notModified && !NOT_MODIFIED_HEADERS.has(name.toLowerCase())) continue;
    if (Array.isArray(value) && value.length === 0) res.removeHeader(name);
    else res.setHeader(name, value);
  }
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

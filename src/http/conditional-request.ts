import type { IncomingHttpHeaders } from 'node:http';
import { type CachedResponse, findStoredHeader } from './cached-response.js';
import { matchesIfNoneMatch } from './entity-tag.js';

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

import type { Revalidated } from '../engine/entry-options.js';
import {
  type CachedEntry,
  type CachedResponse,
  findStoredHeader,
  type StoredHeader,
} from './cached-response.js';
import type { ConditionalHeaders } from './conditional-headers.js';

/** A stale response to revalidate with the handler, and how to tell the engine it is still current. */
export interface Revalidation {
  readonly stale: CachedResponse;
  readonly revalidated: (updated: CachedResponse) => Revalidated<CachedEntry | undefined>;
}

/**
 * The conditional request headers that ask whether `stale` is still current (RFC 9111 §4.3.1): its
 * `ETag` as `If-None-Match`, its `Last-Modified` as `If-Modified-Since`. Empty when it has neither.
 */
export function validatorsOf(stale: CachedResponse): ConditionalHeaders {
  const etag = findStoredHeader(stale.headers, 'etag');
  const lastModified = findStoredHeader(stale.headers, 'last-modified');
  return {
    'if-none-match': typeof etag === 'string' ? etag : undefined,
    'if-modified-since': typeof lastModified === 'string' ? lastModified : undefined,
  };
}

/** Whether `stale` has a validator to revalidate with. */
export function hasValidator(stale: CachedResponse): boolean {
  const validators = validatorsOf(stale);
  return validators['if-none-match'] !== undefined || validators['if-modified-since'] !== undefined;
}

/**
 * RFC 9111 §4.3.4: the stored headers, each replaced by the field of the same name that the 304
 * response carries; fields the 304 does not carry stay as stored.
 */
export function freshenedHeaders(
  stored: readonly StoredHeader[],
  notModified: readonly StoredHeader[],
): StoredHeader[] {
  const updates = new Map<string, StoredHeader>();
  // A header the 304 "removed" only says it was not sent again: the stored one stays.
  for (const header of notModified) if (header[1].length > 0) updates.set(header[0].toLowerCase(), header);
  const headers = stored.map((header) => {
    const lowerName = header[0].toLowerCase();
    const update = updates.get(lowerName);
    if (update === undefined) return header;
    updates.delete(lowerName);
    return [header[0], update[1]] as StoredHeader;
  });
  return [...headers, ...updates.values()];
}

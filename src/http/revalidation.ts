import type { LoadContext, Revalidated } from '../engine/entry-options.js';
import {
  type CachedEntry,
  type CachedResponse,
  findStoredHeader,
  type StoredHeader,
} from './cached-response.js';
import type { ConditionalHeaders } from './conditional-headers.js';
import { computeEntityTag } from './entity-tag.js';

/** A stale response to revalidate with the handler, and how to tell the engine it is still current. */
export interface Revalidation {
  readonly stale: CachedResponse;
  readonly revalidated: (updated: CachedResponse) => Revalidated<CachedEntry | undefined>;
}

/** How to revalidate the stale response of `context`, when it has a validator (RFC 9111 §4.3.1). */
export function revalidationOf(
  context: LoadContext<CachedEntry | undefined>,
  enabled: boolean,
): Revalidation | undefined {
  const { stale, revalidated } = context;
  if (!enabled || stale?.kind !== 'response' || revalidated === undefined) return undefined;
  if (!hasValidator(stale)) return undefined;
  return { stale, revalidated: (updated: CachedResponse) => revalidated(updated) };
}

/**
 * The conditional request headers that ask whether `stale` is still current (RFC 9111 §4.3.1): its
 * `ETag` as `If-None-Match`, its `Last-Modified` as `If-Modified-Since`. Empty when it has neither.
 */
export function validatorsOf(stale: CachedResponse): ConditionalHeaders {
  const etag = findStoredHeader(stale.headers, 'etag');
  const lastModified = findStoredHeader(stale.headers, 'last-modified');
  const modifiedSince = typeof lastModified === 'string' ? lastModified : undefined;
  // A tag the cache may have made itself (the one it computes from the body, as Express does) is sent
  // only when there is no Last-Modified: a handler that validates by date alone must ignore
  // If-Modified-Since when If-None-Match is present (RFC 9110 §13.1.3), and would then never say 304.
  const tagMaybeOurs = etag === computeEntityTag(stale.body);
  const noneMatch =
    typeof etag === 'string' && (modifiedSince === undefined || !tagMaybeOurs) ? etag : undefined;
  return { 'if-none-match': noneMatch, 'if-modified-since': modifiedSince };
}

/** Whether `stale` has a validator to revalidate with. */
function hasValidator(stale: CachedResponse): boolean {
  const validators = validatorsOf(stale);
  return validators['if-none-match'] !== undefined || validators['if-modified-since'] !== undefined;
}

const KEPT_FROM_THE_STORED_RESPONSE: ReadonlySet<string> = new Set([
  'content-encoding',
  'content-length',
  'content-range',
  'content-type',
  'set-cookie',
]);

/**
 * RFC 9111 §4.3.4: the stored headers, each replaced by the field of the same name that the 304
 * response carries; fields the 304 does not carry stay as stored.
 */
export function freshenedHeaders(
  stored: readonly StoredHeader[],
  notModified: readonly StoredHeader[],
): StoredHeader[] {
  const updates = new Map<string, StoredHeader>();
  for (const header of notModified) {
    const lowerName = header[0].toLowerCase();
    // A header the 304 "removed" only says it was not sent again: the stored one stays. Fields that
    // describe the stored bytes (RFC 9111 §3.2) or belong to one client are never taken from a 304.
    if (header[1].length > 0 && !KEPT_FROM_THE_STORED_RESPONSE.has(lowerName)) updates.set(lowerName, header);
  }
  const headers = stored.map((header) => {
    const lowerName = header[0].toLowerCase();
    const update = updates.get(lowerName);
    if (update === undefined) return header;
    updates.delete(lowerName);
    return [header[0], update[1]] as StoredHeader;
  });
  return [...headers, ...updates.values()];
}

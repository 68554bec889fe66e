/**
 * One response header as replayed: its name as the handler spelled it, and its value or values. No
 * values means the handler removed a header that earlier middleware had set: the replay removes it.
 */
export type StoredHeader = readonly [name: string, value: string | readonly string[]];

/** A stored response, replayed byte for byte on a hit. */
export interface CachedResponse {
  readonly kind: 'response';
  readonly status: number;
  /** Headers to replay, without hop-by-hop fields, `Content-Length`, `Date`, `Age` and `X-Cache`. */
  readonly headers: readonly StoredHeader[];
  /** The exact body bytes sent to the first client (after any encoding applied inside the cache). */
  readonly body: Buffer;
  /** The `ETag` sent with the response, or the one computed from its body; answers `If-None-Match`. */
  readonly etag: string | undefined;
  /** Express route pattern that produced it, for the `request` event of hits (the handler does not run). */
  readonly route: string;
  /** Freshness chosen for this response, in seconds; not stored. `undefined` means the cache's default. */
  readonly ttlSeconds?: number | undefined;
  /** How old the response was when it arrived (RFC 9111 §4.2.3), in seconds; not stored (it dates the entry). */
  readonly ageSeconds?: number | undefined;
  /** The stale window the response allows, in seconds; not stored. `undefined`: the route's or the cache's. */
  readonly staleTtlSeconds?: number | undefined;
  /** Tags of this response; not stored (the store indexes them). */
  readonly tags?: readonly string[];
}

/**
 * What the base key of a resource holds once its response turned out to carry `Vary`: the sorted,
 * lower-case request header names whose values select the stored variant (RFC 9111 §4.1).
 */
export interface VariantsRecord {
  readonly kind: 'variants';
  readonly names: readonly string[];
  readonly route: string;
  readonly ttlSeconds?: number | undefined;
  readonly ageSeconds?: number | undefined;
  readonly staleTtlSeconds?: number | undefined;
  readonly tags?: readonly string[];
}

/** Anything the middleware stores. */
export type CachedEntry = CachedResponse | VariantsRecord;

/** The value of the stored header `lowerCaseName`, matched without regard to case. */
export function findStoredHeader(
  headers: readonly StoredHeader[],
  lowerCaseName: string,
): string | readonly string[] | undefined {
  for (const [name, value] of headers) {
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return value;
  }
  return undefined;
}

import { EventEmitter } from 'node:events';

/** How a lookup was answered: from a fresh entry, by loading, or from a stale entry. */
export type LookupResult = 'hit' | 'miss' | 'stale';

/**
 * What a cache does with lookups: `on` (cache-aside), `off` (every lookup runs its loader and the cache
 * is neither read nor written) or `shadow` (lookups and stores happen, but every answer is the
 * loader's, and the cache reports what it would have answered).
 */
export type CacheMode = 'on' | 'off' | 'shadow';

/** Every {@link CacheMode}, in the order error messages list them. */
export const CACHE_MODES: readonly CacheMode[] = ['on', 'off', 'shadow'];

/**
 * In shadow mode, how the value the cache would have answered compares with the fresh one: `same` or
 * `different`, or `none` when there was nothing to compare (the cache would have missed, or the fresh
 * response was not kept).
 */
export type ShadowMatch = 'same' | 'different' | 'none';

/** Backend operations, as labelled in metrics and logs. */
export type StoreOperation =
  | 'get'
  | 'get_many'
  | 'set'
  | 'delete'
  | 'delete_tagged'
  | 'delete_matching'
  | 'ttl'
  | 'expire'
  | 'lock_acquire'
  | 'lock_release'
  | 'lease';

/** Operations that can fail without failing the caller: store operations, (de)coding, the Redis connection. */
export type FailureOperation = StoreOperation | 'decode' | 'encode' | 'connection' | 'publish';

/**
 * Why a loaded value was not stored: an invalidation came after its load began, the load outlived its
 * lease, or the lease could not be read (Redis failed as the load began).
 */
export type RefusedWriteReason = 'invalidated' | 'lease-expired' | 'lease-unavailable';

/** Kinds of invalidation. */
export type InvalidationKind = 'key' | 'tag' | 'pattern';

/**
 * Events the engine and the middleware emit; metrics and logs are their observers. The HTTP
 * middleware's own events (`request`, `key-error`) are added to this map by `http/request-events.ts`.
 */
export interface CacheEventMap {
  lookup: [{ key: string; result: LookupResult }];
  /** A loader ran; `revalidated` when it found the stale value still current (an HTTP 304). */
  load: [{ key: string; durationSeconds: number; failed: boolean; error?: unknown; revalidated?: boolean }];
  coalesced: [{ key: string }];
  /** A stale entry was found still current by its loader (an HTTP 304) and made fresh again. */
  revalidated: [{ key: string }];
  'store-operation': [{ operation: StoreOperation; durationSeconds: number; failed: boolean }];
  failure: [{ operation: FailureOperation; error: unknown; key?: string }];
  recovery: [{ operation: FailureOperation }];
  invalidation: [{ kind: InvalidationKind; count: number }];
  /** A loaded value was not stored, so that nothing older than an invalidation is served after it. */
  'write-refused': [{ key: string; reason: RefusedWriteReason }];
  circuit: [{ open: boolean }];
  /** The cache's mode changed, by `setMode` on this instance or, with `everywhere`, on another one. */
  mode: [{ mode: CacheMode; previous: CacheMode; fromAnotherInstance: boolean }];
  /**
   * In shadow mode, one per answered lookup: what the cache would have answered (`would`) and how its
   * value compares with the fresh one. `route`: the Express route pattern, for `responseCache` requests.
   */
  shadow: [{ key: string; would: LookupResult; match: ShadowMatch; route?: string }];
}

/**
 * The event bus of one cache. Listeners must not throw; they run synchronously on the request path,
 * so they must stay cheap.
 */
export class CacheEvents extends EventEmitter<CacheEventMap> {}

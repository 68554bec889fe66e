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
  | 'lease'
  /** Reads made to inspect the cache (`cache.inspector`, the admin router), never on a request's path. */
  | 'inspect';

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
 * Why a queued invalidation was given up: the queue was full when it failed (`overflow`: it was never
 * queued), or it waited longer than `invalidationQueue.maxAgeMs` (`age`).
 */
export type InvalidationDropReason = 'overflow' | 'age';

/**
 * Events the engine and the middleware emit; metrics and logs are their observers. The HTTP
 * middleware's own events (`request`, `key-error`) are added to this map by `http/request-events.ts`.
 */
export interface CacheEventMap {
  lookup: [{ key: string; result: LookupResult }];
  /**
   * A loader ran; `failed` when it threw or timed out (for HTTP: the handler answered with a server
   * error); `revalidated` when it found the stale value still current (an HTTP 304). `group` names the
   * keys it belongs to (the route pattern, for HTTP; the `group` entry option), when there is one.
   */
  load: [
    {
      key: string;
      durationSeconds: number;
      failed: boolean;
      error?: unknown;
      revalidated?: boolean;
      group?: string;
    },
  ];
  coalesced: [{ key: string }];
  /** A stale entry was found still current by its loader (an HTTP 304) and made fresh again. */
  revalidated: [{ key: string }];
  /**
   * One call to the store. `releasedLock`: the call (a load's write) also released the load's stampede
   * lock, which then makes no `lock_release` call of its own.
   */
  'store-operation': [
    { operation: StoreOperation; durationSeconds: number; failed: boolean; releasedLock?: boolean },
  ];
  failure: [{ operation: FailureOperation; error: unknown; key?: string }];
  recovery: [{ operation: FailureOperation }];
  invalidation: [{ kind: InvalidationKind; count: number }];
  /** An invalidation failed after its retries; the caller's promise rejects with `error`. */
  'invalidation-failed': [{ kind: InvalidationKind; error: unknown }];
  /**
   * An invalidation could not reach Redis and waits to be replayed; `queueSize` counts it. Until the
   * queue is empty again this instance reads nothing from Redis.
   */
  'invalidation-queued': [{ kind: InvalidationKind; queueSize: number }];
  /** A queued invalidation was replayed (stamped and announced); `queueSize` is what still waits. */
  'invalidation-replayed': [{ kind: InvalidationKind; queueSize: number }];
  /** An invalidation that could not reach Redis will never be replayed; `queueSize` is what still waits. */
  'invalidation-dropped': [{ kind: InvalidationKind; reason: InvalidationDropReason; queueSize: number }];
  /** A loaded value was not stored, so that nothing older than an invalidation is served after it. */
  'write-refused': [{ key: string; reason: RefusedWriteReason }];
  /**
   * A circuit breaker opened or closed (once each per outage: a failed probe is not another opening).
   * On a Redis Cluster each master has its own, named by `node`
   * (`host:port`); one Redis (or a store of your own) has one, and the event has no `node`.
   */
  circuit: [{ open: boolean; node?: string }];
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

import { EventEmitter } from 'node:events';

/** How a lookup was answered: from a fresh entry, by loading, or from a stale entry. */
export type LookupResult = 'hit' | 'miss' | 'stale';

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
}

/**
 * The event bus of one cache. Listeners must not throw; they run synchronously on the request path,
 * so they must stay cheap.
 */
export class CacheEvents extends EventEmitter<CacheEventMap> {}

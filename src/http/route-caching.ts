import type { Cache, EntryOptions } from '../engine/cache.js';
import type { CachedEntry } from './cached-response.js';
import type { BypassReason } from './request-policy.js';
import type { ResolvedResponseCacheConfig } from './response-cache-options.js';
import type { NotStoredReason } from './response-policy.js';
import type { RouteNames } from './route-names.js';

/** The part of a `Cache` the middleware uses. */
export type ResponseCacheEngine = Pick<Cache, 'lookup' | 'set' | 'events'> &
  Partial<Pick<Cache, 'defaultTtlSeconds' | 'staleWhileRevalidate' | 'name' | 'mode'>>;

/** Everything one `responseCache(...)` middleware computed once, at creation. */
export interface RouteCaching {
  cache: ResponseCacheEngine;
  config: ResolvedResponseCacheConfig;
  entryOptions: EntryOptions<CachedEntry | undefined>;
  /**
   * `entryOptions` for the requests of one Express route pattern, named as their `route` and their load
   * `group`; made once per pattern, since every request of the route would otherwise build the same.
   */
  entryOptionsOf(route: string): EntryOptions<CachedEntry | undefined>;
  /** The requests the middlewares of its cache passed on toward their handlers (see `responseCache`). */
  passedOn: WeakSet<object>;
  /** The names its requests' routes are reported by (bounded: see `RouteNames`). */
  routeNames: RouteNames;
  /** Tells the cache's observers, once per route pattern, that the route's `key`, `credentialKey` or `enabled` failed. */
  reportKeyError(route: string, option: 'key' | 'credentialKey' | 'enabled', error: unknown): void;
}

/**
 * Why a request got the outcome it got, in the `reason` of its `request` event: a bypass reason, why
 * the handler's response was not stored, or how a request that did not run the handler was served.
 */
export type RequestReason =
  | BypassReason
  | NotStoredReason
  | 'coalesced'
  | 'head'
  | 'uncacheable'
  | 'error'
  | 'revalidated';

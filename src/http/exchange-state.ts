import type { CacheStatusEntry } from './cache-status.js';
import type { ConditionalHeaders } from './conditional-headers.js';
import type { BypassReason } from './request-policy.js';
import type { RequestReason } from './route-caching.js';
import type { WithheldResponse } from './withhold-response.js';

/**
 * The handler runs for this request while the stale entry waits as the fallback (stale-if-error, RFC
 * 5861 §4; with the stale response's validators when it has any, RFC 9111 §4.3): its response is held
 * back until its status shows it is no server error.
 */
interface StaleFallback {
  readonly withheld: WithheldResponse;
  /** The client's conditional headers, while the request carries the stale entry's validators instead. */
  readonly clientConditions: ConditionalHeaders | undefined;
  readonly varyMiss: boolean;
}

/**
 * Where one request stands in `RequestExchange`. `varyMiss`: the base key led to a `Vary` record and this
 * request's variant was looked up. `cacheStatus`: what the response's `Cache-Status` says (RFC 9211).
 */
export type ExchangeState =
  /** Not keyed yet. */
  | { readonly name: 'arrived' }
  /** The engine looks the key up (the base key, then the variant a `Vary` record names). */
  | { readonly name: 'looking-up'; readonly varyMiss: boolean }
  /** A background refresh (no client): the handler runs for a copy of a request, its response loaded. */
  | { readonly name: 'refreshing' }
  /** Stale: the handler runs for this request, withheld, the stale entry waiting as the fallback. */
  | ({ readonly name: 'revalidating' } & StaleFallback)
  /** The handler answered the revalidation 304: the stale entry answers, fresh again. */
  | ({ readonly name: 'revalidated' } & StaleFallback)
  /** The request may not use the cache: the handler answers, nothing is looked up or stored. */
  | { readonly name: 'bypassed'; readonly reason: BypassReason; readonly cacheStatus: CacheStatusEntry }
  /** Miss: the handler answers, and its response is captured for the engine to store. */
  | { readonly name: 'running-handler'; readonly cacheStatus: CacheStatusEntry }
  /** Miss: the handler answers, and its response is not stored, for `reason`. */
  | { readonly name: 'not-stored'; readonly reason: RequestReason; readonly cacheStatus: CacheStatusEntry }
  /** A stored response answered: a hit, a stale entry, a shared (collapsed) miss, or a revalidated one. */
  | { readonly name: 'replayed'; readonly cacheStatus: CacheStatusEntry };

type StateName = ExchangeState['name'];

/** Every transition a request may take; any other is a bug in `RequestExchange`. */
const TRANSITIONS: { readonly [From in StateName]: readonly StateName[] } = {
  arrived: ['bypassed', 'looking-up', 'refreshing'],
  // `looking-up` again: from the `Vary` record to the variant. `not-stored`: the handler answers a
  // request that did not lead the load (HEAD, nothing storable came back, the cache failed).
  'looking-up': ['looking-up', 'running-handler', 'not-stored', 'revalidating', 'replayed'],
  // `running-handler`: the handler's response went out. `not-stored`: its held server error went out.
  revalidating: ['running-handler', 'not-stored', 'revalidated', 'replayed'],
  revalidated: ['not-stored', 'replayed'],
  // The reason is known only as the response goes out, or once it is complete.
  'running-handler': ['not-stored'],
  'not-stored': ['not-stored'],
  refreshing: [],
  bypassed: [],
  replayed: [],
};

/** `to`, when a request in state `from` may go there; else throws (a programming error, never a request's). */
export function checkedTransition(from: ExchangeState, to: ExchangeState): ExchangeState {
  if (!TRANSITIONS[from.name].includes(to.name)) {
    throw new Error(`responseCache: a request cannot go from state ${from.name} to ${to.name}`);
  }
  return to;
}

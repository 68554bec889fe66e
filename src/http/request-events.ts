import type { LookupResult } from '../events.js';

/**
 * How the HTTP middleware answered a request: from the cache (`hit`, `stale`), by the handler on a
 * miss, past the cache (`bypass`), or by the handler while the cache is in shadow mode (`shadow`).
 */
export type RequestResult = LookupResult | 'bypass' | 'shadow';

// The middleware's events travel on the cache's event bus, so they join its map (users subscribe
// with `cache.events.on('request', …)`); the engine itself knows nothing of routes.
declare module '../events.js' {
  interface CacheEventMap {
    /**
     * A route's `key`, `credentialKey` or `enabled` threw or gave something unusable (its requests
     * bypass); once per route.
     */
    'key-error': [{ route: string; option: 'key' | 'credentialKey' | 'enabled'; error: unknown }];
    /**
     * A request reached a `responseCache` middleware of a cache while another middleware of the same
     * cache served it (one mounted inside the other): the inner one passed it on, and the outer one's
     * options apply. Once per inner middleware; `route` names where it is mounted.
     */
    'nested-middleware': [{ route: string }];
    /**
     * One per request that reached a `responseCache` middleware; `route` is the Express route pattern,
     * `status` the status code the client was sent.
     */
    request: [
      {
        route: string;
        method: string;
        result: RequestResult;
        status: number;
        durationSeconds: number;
        reason?: string;
      },
    ];
  }
}

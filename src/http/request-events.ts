import type { LookupResult } from '../events.js';

/** How the HTTP middleware answered a request. */
export type RequestResult = LookupResult | 'bypass';

// The middleware's events travel on the cache's event bus, so they join its map (users subscribe
// with `cache.events.on('request', …)`); the engine itself knows nothing of routes.
declare module '../events.js' {
  interface CacheEventMap {
    /** A route's `key` or `credentialKey` threw or gave something unusable (its requests bypass); once per route. */
    'key-error': [{ route: string; option: 'key' | 'credentialKey'; error: unknown }];
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

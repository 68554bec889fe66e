/** Every kind of purge, for metrics whose series start at zero. */
export const PURGE_KINDS = ['entry', 'tag', 'pattern'] as const;

/** What an operator purged through the admin router: one URL's entry, a tag, or a URL pattern. */
export type PurgeKind = (typeof PURGE_KINDS)[number];

/** Who purged what: `target` is the URL, tag or pattern as the operator gave it. */
export interface PurgeRequest {
  kind: PurgeKind;
  target: string;
  /** Who asked, as the router's `actor(req)` names them. */
  actor: string;
}

// The admin router's events travel on the cache's event bus, beside the middleware's, so that metrics
// and logs observe purges as they observe everything else.
declare module '../events.js' {
  interface CacheEventMap {
    /** A purge through the admin router went through: `purged` entries went. */
    purge: [PurgeRequest & { purged: number }];
    /** A purge through the admin router failed (the store was unreachable): nothing is known to have gone. */
    'purge-failed': [PurgeRequest & { error: unknown }];
  }
}

import type { Lease } from '../store/cache-store.js';

/** What reading a lease gave: one, a store without leases (`'none'`), or a store that failed to answer. */
export type LeaseGrant = Lease | 'none' | 'unavailable';

/**
 * Where a load began in the cache's history of invalidations. The cache takes one before every load
 * and refuses to store the loaded value if the entry, one of its tags or a pattern matching it was
 * invalidated since (a "stale set"). A loader gets its lease as `context.lease`: pass it to `set` for
 * entries the loader writes itself, and they are refused in the same case.
 */
export class LoadLease {
  readonly #grant: LeaseGrant;

  /** Leases come from the cache; there is no reason to build one. */
  constructor(grant: LeaseGrant) {
    this.#grant = grant;
  }

  /** What the store granted; read by the cache when it writes under the lease. */
  static grantOf(lease: LoadLease): LeaseGrant {
    return lease.#grant;
  }
}

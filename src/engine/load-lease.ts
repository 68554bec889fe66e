import { CacheOptionError } from '../errors.js';
import type { LeaseGrant } from './cache-backend.js';

/**
 * Where a load began in the cache's history of invalidations. The cache takes one before every load
 * and refuses to store the loaded value if the entry, one of its tags or a pattern matching it was
 * invalidated since (a "stale set"). A loader gets its lease as `context.lease`: pass it to `set` for
 * entries the loader writes itself, and they are refused in the same case.
 */
export class LoadLease {
  readonly #grant: LeaseGrant;
  readonly #issuer: object;

  /** Leases come from the cache; there is no reason to build one. */
  constructor(grant: LeaseGrant, issuer: object) {
    this.#grant = grant;
    this.#issuer = issuer;
  }

  /**
   * What the store granted, read by the cache that writes under the lease. Throws for a lease of
   * another cache: its count belongs to another history of invalidations, and comparing it here
   * could let a stale value in.
   */
  static grantOf(lease: LoadLease, issuer: object): LeaseGrant {
    if (lease.#issuer !== issuer) {
      throw new CacheOptionError('`lease` must come from a loader of the same cache (`context.lease`)');
    }
    return lease.#grant;
  }
}

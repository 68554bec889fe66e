import type { StoreOperation } from '../events.js';
import type {
  CacheStore,
  InspectionMethod,
  Lease,
  StoreRenewal,
  StoreSetOptions,
  StoreWriteResult,
} from '../store/cache-store.js';

/** Outcome of {@link CacheBackend.tryLock}. */
export type LockAttempt = 'acquired' | 'held' | 'unavailable';

/** Outcome of {@link CacheBackend.tryLockThenRead}: with the lock comes the entry as it was then. */
export type LockedRead =
  | { lock: 'acquired'; value: Buffer | undefined | 'unavailable' }
  | { lock: 'held' | 'unavailable' };

/** What the store granted a load about to begin: a lease, none (a store without leases), or a failure. */
export type LeaseGrant = Lease | 'none' | 'unavailable';

/** Outcome of {@link CacheBackend.tryLeaseAndLockThenRead}: the lock attempt, and the lease whatever its outcome. */
export type LeasedLockedRead = LockedRead & { lease: LeaseGrant };

/**
 * The stampede lock a load holds, for the write of its value to release in the same call: `released`
 * says whether it did (else the lock's holder releases it).
 */
export interface HeldLock {
  readonly key: string;
  readonly token: string;
  released: boolean;
}

/**
 * The store as the engine uses it, with the failure policy already applied (the store layer's
 * `ResilientStore` implements it): reads and writes never throw, they tell a miss or a write from a
 * failed backend; invalidations and administrative commands reject with a coded `CacheError`.
 */
export interface CacheBackend {
  /** Whether the last call found the backend unreachable or too slow, rather than refusing one command. */
  readonly unreachable: boolean;
  /** Reads one key; `undefined` on a miss or on any failure. */
  read(key: string): Promise<Buffer | undefined>;
  /** Reads many keys in one round trip; all `undefined` on failure. */
  readMany(keys: readonly string[]): Promise<(Buffer | undefined)[]>;
  /** Reads one key, telling a miss (`undefined`) from a failed backend (`'unavailable'`). */
  tryRead(key: string): Promise<Buffer | undefined | 'unavailable'>;
  /**
   * Writes one entry; resolves to what became of it, `'failed'` when the store failed. With `lock`, the
   * same call releases that lock when the store can (then `lock.released` is set).
   */
  write(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock?: HeldLock,
  ): Promise<StoreWriteResult | 'failed'>;
  /** Renews a stale entry in place; `'unsupported'` when the store cannot, `'failed'` when it failed. */
  renew(key: string, renewal: StoreRenewal): Promise<StoreWriteResult | 'changed' | 'unsupported' | 'failed'>;
  /** The lease for a load about to begin: `'none'` when the store has no leases, `'unavailable'` when it failed. */
  tryReadLease(): Promise<LeaseGrant>;
  /** Takes a lock: `'held'` when another holder has it, `'unavailable'` when the backend failed. */
  tryLock(key: string, token: string, ttlMs: number): Promise<LockAttempt>;
  /** Takes a lock and, once it is ours, reads `key` (which the previous holder may just have written). */
  tryLockThenRead(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockedRead>;
  /** `tryReadLease` and `tryLockThenRead` for a load about to begin: in one round trip when the store can. */
  tryLeaseAndLockThenRead(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockedRead>;
  /** Releases a lock we hold; a failure is reported, not thrown (the lock then expires by itself). */
  unlock(key: string, token: string): Promise<void>;
  /** Runs an invalidation (with retries); rejects with `E_INVALIDATION_FAILED` when it cannot be done. */
  invalidate<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T>;
  /** Whether the store offers an optional method that inspection needs. */
  supports(method: InspectionMethod): boolean;
  /** Runs an administrative call (ttl, expire); rejects with the coded failure. */
  command<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T>;
}

import type { StoreOperation } from '../events.js';
import type {
  CacheStore,
  InspectionMethod,
  StoreRenewal,
  StoreSetOptions,
  StoreWriteResult,
} from '../store/cache-store.js';
import type {
  CacheBackend,
  HeldLock,
  LeasedLockedRead,
  LeaseGrant,
  LockAttempt,
  LockedRead,
} from './cache-backend.js';

/**
 * The store as lookups and loads see it while invalidations wait to be replayed: unreachable. Redis
 * may still hold an entry that one of them removes, and nothing tells which, so nothing is read from
 * it (a miss: the loader answers), no lease or lock is taken (a load's value is not stored) and
 * nothing is written, until the queue is empty. Invalidations and administrative calls go through.
 */
export class ReplayGate implements CacheBackend {
  readonly #store: CacheBackend;
  readonly #queue: { readonly pending: boolean };

  constructor(store: CacheBackend, queue: { readonly pending: boolean }) {
    this.#store = store;
    this.#queue = queue;
  }

  get unreachable(): boolean {
    return this.#queue.pending || this.#store.unreachable;
  }

  read(key: string): Promise<Buffer | undefined> {
    return this.#queue.pending ? Promise.resolve(undefined) : this.#store.read(key);
  }

  readMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    return this.#queue.pending ? Promise.resolve(keys.map(() => undefined)) : this.#store.readMany(keys);
  }

  tryRead(key: string): Promise<Buffer | undefined | 'unavailable'> {
    return this.#queue.pending ? Promise.resolve('unavailable') : this.#store.tryRead(key);
  }

  write(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock?: HeldLock,
  ): Promise<StoreWriteResult | 'failed'> {
    return this.#queue.pending ? Promise.resolve('failed') : this.#store.write(key, value, options, lock);
  }

  renew(
    key: string,
    renewal: StoreRenewal,
  ): Promise<StoreWriteResult | 'changed' | 'unsupported' | 'failed'> {
    return this.#queue.pending ? Promise.resolve('failed') : this.#store.renew(key, renewal);
  }

  tryReadLease(): Promise<LeaseGrant> {
    return this.#queue.pending ? Promise.resolve('unavailable') : this.#store.tryReadLease();
  }

  tryLock(key: string, token: string, ttlMs: number): Promise<LockAttempt> {
    return this.#queue.pending ? Promise.resolve('unavailable') : this.#store.tryLock(key, token, ttlMs);
  }

  tryLockThenRead(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockedRead> {
    if (this.#queue.pending) return Promise.resolve({ lock: 'unavailable' });
    return this.#store.tryLockThenRead(lockKey, token, ttlMs, key);
  }

  tryLeaseAndLockThenRead(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockedRead> {
    if (this.#queue.pending) return Promise.resolve({ lock: 'unavailable', lease: 'unavailable' });
    return this.#store.tryLeaseAndLockThenRead(lockKey, token, ttlMs, key);
  }

  /** A lock taken before the queue filled is still ours to release. */
  unlock(key: string, token: string): Promise<void> {
    return this.#store.unlock(key, token);
  }

  invalidate<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T> {
    return this.#store.invalidate(operation, task);
  }

  command<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T> {
    return this.#store.command(operation, task);
  }

  /** Inspection (the admin router) reads what Redis holds, queue or not: it serves no request. */
  supports(method: InspectionMethod): boolean {
    return this.#store.supports(method);
  }
}

import { ExponentialBackoff, handleAll, type IPolicy, noJitterGenerator, noop, retry } from 'cockatiel';
import type {
  CacheBackend,
  HeldLock,
  LeasedLockedRead,
  LeaseGrant,
  LockAttempt,
  LockedRead,
} from '../engine/cache-backend.js';
import { CacheError } from '../errors.js';
import type { CacheEvents, StoreOperation } from '../events.js';
import {
  type CacheStore,
  type InspectionMethod,
  type Lease,
  PartialReadError,
  type StoreRenewal,
  type StoreSetOptions,
  type StoreWriteResult,
} from './cache-store.js';
import { type CallGuard, type CallGuardConfig, OneCircuit } from './call-guard.js';
import { isCircuitOpenError, isOutage } from './circuit-breaker.js';

/** Failure policy of a {@link ResilientStore}: timeouts and circuit breaking, and invalidation retries. */
export interface ResilienceConfig extends CallGuardConfig {
  /** Attempts of an invalidation before it rejects (1 means no retry). */
  invalidationAttempts: number;
  /** Delay before the first retry of an invalidation, doubled for each next one, in milliseconds. */
  invalidationBackoffMs: number;
}

/**
 * The one place that decides what a backend failure means. Every call is timed, bounded by a
 * timeout and guarded by a circuit breaker (one for the backend, or, on a Redis Cluster, one per
 * node for each command: see `NodeCircuits`); failures are reported as events. Reads and writes fail
 * open (a failed read is a miss, a failed write is forgotten); invalidations retry with backoff and
 * then reject, because a lost invalidation would serve stale data as fresh.
 */
export class ResilientStore implements CacheBackend {
  readonly #store: CacheStore;
  readonly #events: CacheEvents;
  readonly #guard: CallGuard;
  readonly #invalidationRetry: IPolicy;
  #failing = false;
  #unreachable = false;

  /**
   * `guard` bounds and guards each call of `store`; by default one circuit for the whole backend, whose
   * changes are `circuit` events.
   */
  constructor(
    store: CacheStore,
    events: CacheEvents,
    config: ResilienceConfig,
    guard: CallGuard = new OneCircuit(config, (open) => events.emit('circuit', { open })),
  ) {
    this.#store = store;
    this.#events = events;
    this.#guard = guard;
    this.#invalidationRetry =
      config.invalidationAttempts > 1
        ? retry(handleAll, {
            maxAttempts: config.invalidationAttempts - 1,
            // No jitter: the delays are exactly the documented doubling of invalidationBackoffMs.
            backoff: new ExponentialBackoff({
              initialDelay: config.invalidationBackoffMs,
              exponent: 2,
              generator: noJitterGenerator,
            }),
          })
        : noop;
  }

  /** The wrapped store. */
  get store(): CacheStore {
    return this.#store;
  }

  /**
   * Whether the last call found the backend unreachable or too slow (a timeout, a lost connection, the
   * open circuit) rather than refusing one command: another call now would likely wait as long.
   */
  get unreachable(): boolean {
    return this.#unreachable;
  }

  /** Reads one key; `undefined` on a miss or on any failure. */
  read(key: string): Promise<Buffer | undefined> {
    return this.#failOpen('get', () => this.#store.get(key), undefined, key);
  }

  /** Reads many keys in one round trip; `undefined` for each key that could not be read. */
  async readMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    try {
      return await this.#call('get_many', () => this.#store.getMany(keys), keys[0]);
    } catch (error) {
      const partial = error instanceof CacheError ? error.cause : undefined;
      return partial instanceof PartialReadError ? partial.values : keys.map(() => undefined);
    }
  }

  /**
   * Writes one entry; resolves to what became of it, `'failed'` when the store failed (reported). With
   * `lock`, releases it in the same call when the store has `setAndReleaseLock`.
   */
  async write(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock?: HeldLock,
  ): Promise<StoreWriteResult | 'failed'> {
    const store = this.#store;
    if (lock !== undefined && store.setAndReleaseLock !== undefined) {
      const result = await this.#failOpen<StoreWriteResult | 'failed'>(
        'set',
        async () => (await store.setAndReleaseLock?.(key, value, options, lock)) ?? 'stored',
        'failed',
        key,
        true,
      );
      // A failed call may not have released it: its holder tries once more, as without this method.
      if (result !== 'failed') lock.released = true;
      return result;
    }
    return this.#failOpen<StoreWriteResult | 'failed'>(
      'set',
      async () => (await store.set(key, value, options)) ?? 'stored',
      'failed',
      key,
    );
  }

  /**
   * Renews a stale entry in place; `'unsupported'` when the store cannot (the cache then writes the
   * whole entry), `'failed'` when it failed (reported).
   */
  async renew(
    key: string,
    renewal: StoreRenewal,
  ): Promise<StoreWriteResult | 'changed' | 'unsupported' | 'failed'> {
    const renew = this.#store.renew?.bind(this.#store);
    if (renew === undefined) return 'unsupported';
    return this.#failOpen<StoreWriteResult | 'changed' | 'failed'>(
      'set',
      () => renew(key, renewal),
      'failed',
      key,
    );
  }

  /** The lease for a load about to begin: `'none'` when the store has no leases, `'unavailable'` when it failed. */
  async tryReadLease(): Promise<LeaseGrant> {
    const read = this.#store.readLease?.bind(this.#store);
    if (read === undefined) return 'none';
    return this.#failOpen<Lease | 'unavailable'>('lease', read, 'unavailable');
  }

  /** Reads one key, telling a miss (`undefined`) from a failed backend (`'unavailable'`). */
  tryRead(key: string): Promise<Buffer | undefined | 'unavailable'> {
    return this.#failOpen<Buffer | undefined | 'unavailable'>(
      'get',
      () => this.#store.get(key),
      'unavailable',
      key,
    );
  }

  /** Takes a lock: `'held'` when another holder has it, `'unavailable'` when the backend failed. */
  async tryLock(key: string, token: string, ttlMs: number): Promise<LockAttempt> {
    return this.#failOpen<LockAttempt>(
      'lock_acquire',
      async () => ((await this.#store.acquireLock(key, token, ttlMs)) ? 'acquired' : 'held'),
      'unavailable',
      key,
    );
  }

  /**
   * Takes a lock and, once it is ours, reads `key`, which may hold what the previous holder stored
   * just before releasing it. One round trip when the store can (`acquireLockAndGet`), else two.
   */
  async tryLockThenRead(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockedRead> {
    const combined = this.#store.acquireLockAndGet?.bind(this.#store);
    if (combined === undefined) {
      const lock = await this.tryLock(lockKey, token, ttlMs);
      return lock === 'acquired' ? { lock, value: await this.tryRead(key) } : { lock };
    }
    return this.#failOpen<LockedRead>(
      'lock_acquire',
      async () => {
        const found = await combined(lockKey, token, ttlMs, key);
        return found.acquired ? { lock: 'acquired', value: found.value } : { lock: 'held' };
      },
      { lock: 'unavailable' },
      lockKey,
    );
  }

  /**
   * The lease of a load about to begin and its first attempt at the lock: one round trip when the store
   * can (`acquireLockAndGetWithLease`; its failure leaves the load without either), else the lease read
   * beside `tryLockThenRead`.
   */
  async tryLeaseAndLockThenRead(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockedRead> {
    const combined = this.#store.acquireLockAndGetWithLease?.bind(this.#store);
    if (combined === undefined) {
      const [lease, locked] = await Promise.all([
        this.tryReadLease(),
        this.tryLockThenRead(lockKey, token, ttlMs, key),
      ]);
      return { ...locked, lease };
    }
    return this.#failOpen<LeasedLockedRead>(
      'lock_acquire',
      async () => {
        const found = await combined(lockKey, token, ttlMs, key);
        return found.acquired
          ? { lock: 'acquired', value: found.value, lease: found.lease }
          : { lock: 'held', lease: found.lease };
      },
      { lock: 'unavailable', lease: 'unavailable' },
      lockKey,
    );
  }

  /** Releases a lock we hold; failures are reported (the lock then expires by itself). */
  async unlock(key: string, token: string): Promise<void> {
    await this.#failOpen('lock_release', () => this.#store.releaseLock(key, token), false, key);
  }

  /** Runs an invalidation with retries; rejects with `E_INVALIDATION_FAILED` when all attempts fail. */
  async invalidate<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T> {
    try {
      return await this.#invalidationRetry.execute(() => this.#call(operation, () => task(this.#store)));
    } catch (error) {
      throw new CacheError(
        'E_INVALIDATION_FAILED',
        `invalidation (${operation}) failed: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Whether the store offers an optional method that inspection needs. */
  supports(method: InspectionMethod): boolean {
    return typeof this.#store[method] === 'function';
  }

  /** Runs an administrative call (ttl, expire); rejects with the coded failure. */
  async command<T>(operation: StoreOperation, task: (store: CacheStore) => Promise<T>): Promise<T> {
    return this.#call(operation, () => task(this.#store));
  }

  // Every Redis call of a hit and a miss passes here: the fail-open path has an async frame of its
  // own, rather than one around `#call`'s.
  async #failOpen<T>(
    operation: StoreOperation,
    task: () => Promise<T>,
    fallback: T,
    key?: string,
    releasesLock = false,
  ): Promise<T> {
    const startedAt = performance.now();
    try {
      const result = await this.#guard.run(operation, task);
      this.#succeeded(operation, startedAt, releasesLock);
      return result;
    } catch (caught) {
      this.#failed(operation, startedAt, caught, key);
      return fallback;
    }
  }

  /** `releasesLock`: the call also releases a load's stampede lock (said in its event when it succeeds). */
  async #call<T>(
    operation: StoreOperation,
    task: () => Promise<T>,
    key?: string,
    releasesLock = false,
  ): Promise<T> {
    const startedAt = performance.now();
    try {
      const result = await this.#guard.run(operation, task);
      this.#succeeded(operation, startedAt, releasesLock);
      return result;
    } catch (caught) {
      throw this.#failed(operation, startedAt, caught, key);
    }
  }

  #succeeded(operation: StoreOperation, startedAt: number, releasesLock: boolean): void {
    const durationSeconds = secondsSince(startedAt);
    this.#events.emit(
      'store-operation',
      releasesLock
        ? { operation, durationSeconds, failed: false, releasedLock: true }
        : { operation, durationSeconds, failed: false },
    );
    this.#unreachable = false;
    if (this.#failing) {
      this.#failing = false;
      this.#events.emit('recovery', { operation });
    }
  }

  /** Reports a failed call; returns it as the coded error a caller that does not fail open gets. */
  #failed(
    operation: StoreOperation,
    startedAt: number,
    caught: unknown,
    key: string | undefined,
  ): CacheError {
    const error = toCacheError(caught, operation);
    this.#unreachable = isOutage(caught);
    // An open circuit made no call, so there is no latency to record.
    if (error.code !== 'E_CIRCUIT_OPEN') {
      this.#events.emit('store-operation', {
        operation,
        durationSeconds: secondsSince(startedAt),
        failed: true,
      });
    }
    this.#failing = true;
    this.#events.emit('failure', key === undefined ? { operation, error } : { operation, error, key });
    return error;
  }
}

function toCacheError(error: unknown, operation: StoreOperation): CacheError {
  if (error instanceof CacheError) return error;
  if (isCircuitOpenError(error)) {
    return new CacheError('E_CIRCUIT_OPEN', `${operation} skipped: the circuit is open`, { cause: error });
  }
  return new CacheError('E_STORE_FAILED', `${operation} failed: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function secondsSince(startedAtMs: number): number {
  return (performance.now() - startedAtMs) / 1000;
}

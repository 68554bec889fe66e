import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheBackend, HeldLock, LeaseGrant } from './cache-backend.js';

/** Settings of the cross-instance stampede lock. */
export interface DistributedLockConfig {
  /** Lifetime of a lock in milliseconds; 0 disables the lock. */
  ttlMs: number;
  /** Longest wait for another instance's load before loading anyway, in milliseconds. */
  waitMs: number;
  /** First pause between checks while waiting, in milliseconds (doubles up to 8 times this). */
  pollMs: number;
}

/** Where a holder leaves its result: the entry it stores, and how to tell a usable one from its bytes. */
export interface PeerResult<S> {
  entryKey: string;
  /** The result in the entry's bytes; `undefined` when there is none (absent, stale or unreadable). */
  decode(bytes: Buffer | undefined): S | undefined;
}

/** How a guarded load ended: we loaded, a peer's stored result was found, or (when skipping) nothing ran. */
export type GuardedLoad<T, S> =
  | { source: 'loaded'; value: T }
  | { source: 'peer'; stored: S }
  | { source: 'skipped' };

/**
 * A load run under the lock: `held` is the lock when this instance holds it (its write may release it),
 * `undefined` when it loads without (no lock, Redis unavailable, or tired of waiting for a peer).
 * `lease`: the load's lease, read with the first attempt at the lock, before any wait.
 */
export type GuardedTask<T> = (held: HeldLock | undefined, lease: LeaseGrant) => Promise<T>;

/** A {@link GuardedTask} that has its lease, unless given a newer one (`renewed`). */
type LeasedTask<T> = (held: HeldLock | undefined, renewed?: LeaseGrant) => Promise<T>;

/** What a waiter does when the lock is held elsewhere: wait for the peer's result, or give up at once. */
export type LockContention = 'wait' | 'skip';

/**
 * One load per key across all instances: `SET NX PX` with a random token, released by
 * compare-and-delete, never held past its lifetime. Waiters poll for the holder's result and load
 * themselves when it does not come in time, when the holder gave up, or when Redis fails, so a
 * lock problem can delay a request by at most `waitMs` and a Redis outage delays it not at all.
 */
export class DistributedLock {
  readonly #store: CacheBackend;
  readonly #config: DistributedLockConfig;
  /**
   * A lock's token only has to differ from every other holder's: this instance's random prefix and a
   * count do, for a fraction of a UUID's cost per miss.
   */
  readonly #tokenPrefix = `${randomUUID()}:`;
  #tokensTaken = 0;

  constructor(store: CacheBackend, config: DistributedLockConfig) {
    this.#store = store;
    this.#config = config;
  }

  /**
   * Runs `load` while holding the lock for `lockKey`. When another instance holds it, either waits
   * for its result to appear in `result.entryKey` (`'wait'`) or returns `skipped` (`'skip'`). Whatever
   * becomes of the lock, `load` gets the lease read with the first attempt at it (in the same round
   * trip when the store can): taken before the load reads its source, as a lease must be. A waiter
   * that takes the lock over reads a newer one first, when the store gives one.
   */
  async run<T, S>(
    lockKey: string,
    load: GuardedTask<T>,
    result: PeerResult<S>,
    contention: LockContention,
  ): Promise<GuardedLoad<T, S>> {
    if (this.#config.ttlMs === 0) {
      return { source: 'loaded', value: await load(undefined, await this.#store.tryReadLease()) };
    }
    const token = `${this.#tokenPrefix}${++this.#tokensTaken}`;
    const { lease, ...attempt } = await this.#store.tryLeaseAndLockThenRead(
      lockKey,
      token,
      this.#config.ttlMs,
      result.entryKey,
    );
    const leased: LeasedTask<T> = (held, renewed) => load(held, renewed ?? lease);
    if (attempt.lock === 'acquired') return this.#holding(lockKey, token, leased, result, attempt.value);
    if (attempt.lock === 'unavailable') return { source: 'loaded', value: await leased(undefined) };
    if (contention === 'skip') return { source: 'skipped' };
    return this.#waitForPeer(lockKey, token, leased, result);
  }

  async #waitForPeer<T, S>(
    lockKey: string,
    token: string,
    load: LeasedTask<T>,
    result: PeerResult<S>,
  ): Promise<GuardedLoad<T, S>> {
    const deadline = Date.now() + this.#config.waitMs;
    let pauseMs = this.#config.pollMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(pauseMs, Math.max(1, deadline - Date.now())));
      pauseMs = Math.min(pauseMs * 2, this.#config.pollMs * 8);
      const bytes = await this.#store.tryRead(result.entryKey);
      if (bytes === 'unavailable') break;
      const stored = result.decode(bytes);
      if (stored !== undefined) return { source: 'peer', stored };
      // The holder finished without storing, or died: whoever takes the lock now loads.
      const attempt = await this.#store.tryLockThenRead(lockKey, token, this.#config.ttlMs, result.entryKey);
      if (attempt.lock === 'acquired') {
        // Nothing has read the source yet: a lease read now is as safe as the first, and an
        // invalidation that came while this instance waited no longer refuses the value it loads.
        const renewed = await this.#store.tryReadLease();
        // A store without leases, or one that failed now: the first lease stands.
        const taken: LeasedTask<T> = (held) => load(held, typeof renewed === 'object' ? renewed : undefined);
        return this.#holding(lockKey, token, taken, result, attempt.value);
      }
      if (attempt.lock === 'unavailable') break;
    }
    return { source: 'loaded', value: await load(undefined) };
  }

  /** `found`: the entry as read right after the lock was taken. */
  async #holding<T, S>(
    lockKey: string,
    token: string,
    load: LeasedTask<T>,
    result: PeerResult<S>,
    found: Buffer | undefined | 'unavailable',
  ): Promise<GuardedLoad<T, S>> {
    const held: HeldLock = { key: lockKey, token, released: false };
    try {
      // The previous holder may have stored its result between our miss and our lock: loading
      // again would be the very stampede the lock exists to prevent.
      const stored = found === 'unavailable' ? undefined : result.decode(found);
      if (stored !== undefined) return { source: 'peer', stored };
      return { source: 'loaded', value: await load(held) };
    } finally {
      // Unless the load's write released it already, in the same call.
      if (!held.released) await this.#store.unlock(lockKey, token);
    }
  }
}

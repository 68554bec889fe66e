/**
 * Where a load began in the cache's history of invalidations, as the store told it (`readLease`). A
 * write that carries it is refused if the entry, one of its tags or a pattern matching it was
 * invalidated since, or if the lease is older than {@link MAX_LEASE_AGE_MS}.
 */
export interface Lease {
  /** The invalidation count when the load began. */
  readonly generation: number;
  /** The store's clock then, in epoch milliseconds. */
  readonly startedAtMs: number;
}

/** Longest a load may take and still store its result, in milliseconds. */
export const MAX_LEASE_AGE_MS = 50_000;

/**
 * How long a store remembers an invalidation for leases, in milliseconds: longer than any lease lives,
 * with room for clocks of Cluster nodes that disagree by a few seconds.
 */
export const STAMP_TTL_MS = 60_000;

/** How an entry is written: its lifetime in Redis and the tag index sets that must list it. */
export interface StoreSetOptions {
  /** Lifetime of the stored bytes, in milliseconds (> 0). */
  ttlMs: number;
  /** Full keys of the tag index sets that must list this entry's key. */
  tagKeys?: readonly string[];
  /**
   * The lease of the load that produced the value: the write is refused when an invalidation came
   * after the load began (a "stale set"). Without it the write is the application's own (`cache.set`):
   * it counts as an invalidation of the key, so loads of the key already under way do not overwrite it.
   */
  lease?: Lease;
}

/** What became of a write: stored, or refused because the lease was voided by an invalidation or expired. */
export type StoreWriteResult = 'stored' | 'invalidated' | 'lease-expired';

/**
 * A stale entry found still current (an HTTP 304): its times are rewritten in place, the rest of its
 * bytes untouched, under the lease of the load that revalidated it.
 */
export interface StoreRenewal {
  /** Byte offset of the times in the stored value. */
  offset: number;
  /** The times found there when the entry was read: the entry must not have been replaced since. */
  expected: Buffer;
  /** The new times, as many bytes as `expected`. */
  times: Buffer;
  /** The whole new value, when more than the times changed: written instead, on the same condition. */
  value?: Buffer;
  /** New lifetime of the stored bytes, in milliseconds. */
  ttlMs: number;
  /** Tag index sets that must list the entry (and live as long). */
  tagKeys: readonly string[];
  lease: Lease;
}

/** What `deleteTagged` removed. */
export interface TaggedDeletion {
  /** Keys that the tag index sets listed. */
  keys: string[];
  /** How many of them existed. */
  deleted: number;
}

/**
 * A `getMany` that read some keys and failed for others (a Redis Cluster with one master down): the
 * values it did read, `undefined` where it failed, so that those keys are still served.
 */
export class PartialReadError extends Error {
  readonly values: (Buffer | undefined)[];

  constructor(values: (Buffer | undefined)[], cause: unknown) {
    super(`some keys could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'PartialReadError';
    this.values = values;
  }
}

/** One step of {@link CacheStore.scanKeys}: which keys it looks for. */
export interface KeyScan {
  /** A Redis glob over full keys (already confined to the cache's prefix). */
  pattern: string;
  /** Only keys holding this Redis type: entries are strings, tag index sets are sets. */
  type: 'string' | 'set';
  /** With `type: 'set'`: only the sets that hold this member (the tag index sets listing an entry). */
  member?: string;
  /** Keys to look at in this step, per server asked (SCAN's `COUNT`, a hint). */
  count: number;
}

/** What one step of a cursor walk found, and where the next step starts (`'0'`: the walk is done). */
export interface ScanPage<T> {
  cursor: string;
  items: T[];
}

/** A stampede lock as its holder knows it: the lock's key and the token it was taken with. */
export interface LockRelease {
  readonly key: string;
  readonly token: string;
}

/** What `acquireLockAndGet` found: whether the lock was taken and, when it was, the entry's bytes. */
export type LockAndValue = { acquired: true; value: Buffer | undefined } | { acquired: false };

/** What `acquireLockAndGetWithLease` found: as `acquireLockAndGet`, and the lease, whatever became of the lock. */
export type LeasedLockAndValue = LockAndValue & { lease: Lease };

/**
 * The port between the engine and a key-value backend. Keys are full keys (prefix included);
 * values are opaque bytes. Implementations throw on backend failure: deciding what a failure
 * means for a request is the job of `ResilientStore`, not of a store.
 */
export interface CacheStore {
  /** Short name for logs and metrics, e.g. `'redis'`. */
  readonly name: string;
  get(key: string): Promise<Buffer | undefined>;
  /**
   * One round trip for all keys; the result lines up with `keys`. A store whose keys live on several
   * nodes may reject with a {@link PartialReadError} when only some of them failed.
   */
  getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]>;
  /** Writes an entry; a store without leases resolves to nothing, which counts as `'stored'`. */
  // biome-ignore lint/suspicious/noConfusingVoidType: stores written before leases resolve to nothing
  set(key: string, value: Buffer, options: StoreSetOptions): Promise<StoreWriteResult | void>;
  /**
   * Optional: renews a stale entry in place (a small write instead of the whole value). Resolves to
   * `'changed'` when the entry is no longer the one that was revalidated; the cache then writes it whole.
   */
  renew?(key: string, renewal: StoreRenewal): Promise<StoreWriteResult | 'changed'>;
  /**
   * Optional: the lease a load takes before it reads its source. A store that has it refuses stale sets,
   * and counts every invalidation (`delete`, `deleteTagged`, `deleteMatching`, `expire`, and `set`
   * without a lease) so that it voids the leases taken before it.
   */
  readLease?(): Promise<Lease>;
  /** Deletes the keys; resolves to how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /**
   * Deletes every entry listed in the tag index sets, and the sets. Resolves to the listed keys
   * (so that in-process copies can be dropped too) and to how many of them existed.
   */
  deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion>;
  /**
   * Deletes every key matching a Redis glob pattern (already confined to the cache's prefix),
   * except keys starting with `exceptPrefix` (the cache's own bookkeeping).
   */
  deleteMatching(pattern: string, exceptPrefix?: string): Promise<number>;
  /** Remaining lifetime in seconds: -2 when the key does not exist, -1 when it never expires. */
  ttlSeconds(key: string): Promise<number>;
  /** Sets the remaining lifetime; resolves to false when the key does not exist. */
  expire(key: string, seconds: number): Promise<boolean>;
  /** Sets `key` to `token` for `ttlMs` unless it exists (`SET NX PX`); resolves to whether it was set. */
  acquireLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only while it still holds `token`; resolves to whether it did. */
  releaseLock(key: string, token: string): Promise<boolean>;
  /**
   * Optional: `acquireLock`, then, once the lock is taken, `get(key)`, in one round trip. The read must
   * see every write that happened before the lock was taken (a script on one Redis does). Without
   * it, the cache calls `acquireLock` and then `get`.
   */
  acquireLockAndGet?(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockAndValue>;
  /**
   * Optional, with `readLease` and `acquireLockAndGet`: both in one round trip, for a load about to
   * begin. The lease is read whatever became of the lock (a load that waits for the lock's holder and
   * then loads after all loads under it), with the same rules as `readLease`'s. Without it, the cache
   * calls `readLease` and `acquireLockAndGet` side by side.
   */
  acquireLockAndGetWithLease?(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockAndValue>;
  /**
   * Optional: `set`, then `releaseLock(lock.key, lock.token)`, in one round trip: a load writes its value
   * and lets go of its stampede lock together. The lock is released whatever became of the write (stored,
   * or refused under its lease). Without it, the cache calls `set` and then `releaseLock`.
   */
  setAndReleaseLock?(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock: LockRelease,
    // biome-ignore lint/suspicious/noConfusingVoidType: as `set`
  ): Promise<StoreWriteResult | void>;
  /**
   * Optional, for inspection (`cache.inspector`): one bounded step of a walk over the keys, as SCAN
   * walks them. Start with cursor `'0'`; the walk is over when the returned cursor is `'0'`. Every key
   * that exists for the whole walk is found at least once (a key may be found twice); one step looks
   * at about `search.count` keys of each server.
   */
  scanKeys?(cursor: string, search: KeyScan): Promise<ScanPage<string>>;
  /**
   * Optional, for inspection: one bounded step of a walk over the keys a tag index set lists (SSCAN),
   * with the same cursor rules as `scanKeys`; `count` is a hint, a step may list more.
   */
  scanTagMembers?(tagKey: string, cursor: string, count: number): Promise<ScanPage<string>>;
}

/** The optional methods that inspection needs; without them `cache.inspector` answers `E_UNSUPPORTED`. */
export type InspectionMethod = 'scanKeys' | 'scanTagMembers';

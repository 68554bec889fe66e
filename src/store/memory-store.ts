import { LRUCache } from 'lru-cache';
import { compileGlob } from '../keys/glob-match.js';
import {
  type CacheStore,
  type KeyScan,
  type Lease,
  type LeasedLockAndValue,
  type LockAndValue,
  type LockRelease,
  MAX_LEASE_AGE_MS,
  type ScanPage,
  STAMP_TTL_MS,
  type StoreRenewal,
  type StoreSetOptions,
  type StoreWriteResult,
  type TaggedDeletion,
} from './cache-store.js';
import { lockThenGet } from './lock-then-get.js';

/** Bounds of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries held at once. Default 10,000. */
  maxEntries?: number;
  /** Most bytes (keys plus values) held at once. Default 64 MiB. */
  maxBytes?: number;
}

/** Stands for "every key" among the stamps: the last pattern invalidation. */
const PATTERN_STAMP = '\0pattern';

interface Stamp {
  generation: number;
  expiresAtMs: number;
}

interface HeldLock {
  token: string;
  expiresAtMs: number;
}

/**
 * A bounded in-process store (LRU by entries and bytes). It serves as the in-process tier and
 * as the reference implementation that the store contract suite checks Redis against.
 */
export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly #entries: LRUCache<string, Buffer>;
  readonly #tagIndex = new Map<string, Set<string>>();
  readonly #locks = new Map<string, HeldLock>();
  /** Invalidations so far; a lease is the count when a load began. */
  #generation = 0;
  /** Keys, tag keys and patterns invalidated in the last `STAMP_TTL_MS`, oldest first. */
  readonly #stamps = new Map<string, Stamp>();

  constructor(options: MemoryStoreOptions = {}) {
    this.#entries = new LRUCache<string, Buffer>({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (value, key) => value.length + key.length,
      // Expired entries must not be returned even when nobody purged them yet.
      allowStale: false,
    });
  }

  /** Entries currently held (expired ones may still count until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes currently held (keys plus values). */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.#entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    return keys.map((key) => this.#entries.get(key));
  }

  async readLease(): Promise<Lease> {
    return { generation: this.#generation, startedAtMs: Date.now() };
  }

  async set(key: string, value: Buffer, options: StoreSetOptions): Promise<StoreWriteResult> {
    const tagKeys = options.tagKeys ?? [];
    const { lease } = options;
    if (lease === undefined) {
      this.#stamp([key]);
    } else {
      if (Date.now() - lease.startedAtMs > MAX_LEASE_AGE_MS) return 'lease-expired';
      if ([key, PATTERN_STAMP, ...tagKeys].some((name) => this.#stampOf(name) > lease.generation)) {
        return 'invalidated';
      }
    }
    for (const tagKey of tagKeys) this.#index(tagKey, key);
    this.#entries.set(key, value, { ttl: options.ttlMs });
    return 'stored';
  }

  #index(tagKey: string, key: string): void {
    let members = this.#tagIndex.get(tagKey);
    if (members === undefined) {
      members = new Set();
      this.#tagIndex.set(tagKey, members);
    }
    members.add(key);
  }

  async renew(key: string, renewal: StoreRenewal): Promise<StoreWriteResult | 'changed'> {
    const { lease } = renewal;
    if (Date.now() - lease.startedAtMs > MAX_LEASE_AGE_MS) return 'lease-expired';
    if ([key, PATTERN_STAMP, ...renewal.tagKeys].some((name) => this.#stampOf(name) > lease.generation)) {
      return 'invalidated';
    }
    const current = this.#entries.get(key);
    const { offset, expected } = renewal;
    if (current === undefined || !current.subarray(offset, offset + expected.length).equals(expected)) {
      return 'changed';
    }
    const renewed = renewal.value ?? Buffer.from(current);
    if (renewal.value === undefined) renewal.times.copy(renewed, offset);
    this.#entries.set(key, renewed, { ttl: renewal.ttlMs });
    for (const tagKey of renewal.tagKeys) this.#index(tagKey, key);
    return 'stored';
  }

  async delete(keys: readonly string[]): Promise<number> {
    this.#stamp(keys);
    return this.#deleteEntries(keys);
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion> {
    this.#stamp(tagKeys);
    const keys: string[] = [];
    let deleted = 0;
    for (const tagKey of tagKeys) {
      const members = [...(this.#tagIndex.get(tagKey) ?? [])];
      this.#tagIndex.delete(tagKey);
      keys.push(...members);
      deleted += this.#deleteEntries(members);
    }
    return { keys, deleted };
  }

  async deleteMatching(pattern: string, exceptPrefix?: string): Promise<number> {
    this.#stamp([PATTERN_STAMP]);
    const matcher = compileGlob(pattern);
    const isExcepted = (key: string) => exceptPrefix !== undefined && key.startsWith(exceptPrefix);
    return this.#deleteEntries(
      [...this.#entries.keys()].filter((key) => matcher.test(key) && !isExcepted(key)),
    );
  }

  async ttlSeconds(key: string): Promise<number> {
    if (!this.#entries.has(key)) return -2;
    const remainingMs = this.#entries.getRemainingTTL(key);
    return Number.isFinite(remainingMs) ? Math.round(remainingMs / 1000) : -1;
  }

  /** The whole walk in one step: a memory store is bounded by `maxEntries` already. */
  async scanKeys(_cursor: string, search: KeyScan): Promise<ScanPage<string>> {
    const matcher = compileGlob(search.pattern);
    const { member } = search;
    const keys =
      search.type === 'string'
        ? [...this.#entries.keys()]
        : [...this.#tagIndex]
            .filter(([, members]) => member === undefined || members.has(member))
            .map(([tagKey]) => tagKey);
    return { cursor: '0', items: keys.filter((key) => matcher.test(key)) };
  }

  async scanTagMembers(tagKey: string, _cursor: string, _count: number): Promise<ScanPage<string>> {
    return { cursor: '0', items: [...(this.#tagIndex.get(tagKey) ?? [])] };
  }

  async expire(key: string, seconds: number): Promise<boolean> {
    this.#stamp([key]);
    const value = this.#entries.get(key);
    if (value === undefined) return false;
    if (seconds <= 0) return this.#entries.delete(key);
    this.#entries.set(key, value, { ttl: seconds * 1000 });
    return true;
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.#locks.get(key);
    if (held !== undefined && held.expiresAtMs > Date.now()) return false;
    this.#locks.set(key, { token, expiresAtMs: Date.now() + ttlMs });
    return true;
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const held = this.#locks.get(key);
    if (held === undefined || held.token !== token || held.expiresAtMs <= Date.now()) return false;
    return this.#locks.delete(key);
  }

  async acquireLockAndGet(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockAndValue> {
    return lockThenGet(this, lockKey, token, ttlMs, key);
  }

  async acquireLockAndGetWithLease(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockAndValue> {
    // Both started in the same tick, as one script would run them: nothing comes in between.
    const lease = this.readLease();
    const found = await lockThenGet(this, lockKey, token, ttlMs, key);
    return { ...found, lease: await lease };
  }

  async setAndReleaseLock(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock: LockRelease,
  ): Promise<StoreWriteResult> {
    try {
      return await this.set(key, value, options);
    } finally {
      await this.releaseLock(lock.key, lock.token);
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
    this.#tagIndex.clear();
    this.#locks.clear();
    this.#stamp([PATTERN_STAMP]);
  }

  #deleteEntries(keys: readonly string[]): number {
    let deleted = 0;
    for (const key of keys) {
      if (this.#entries.delete(key)) deleted++;
    }
    return deleted;
  }

  /** One invalidation: the next count, recorded for each name; stamps older than their lifetime go. */
  #stamp(names: readonly string[]): void {
    const now = Date.now();
    for (const [name, stamp] of this.#stamps) {
      if (stamp.expiresAtMs > now) break;
      this.#stamps.delete(name);
    }
    this.#generation++;
    for (const name of names) {
      // Re-inserted, so that the map stays in order of expiry.
      this.#stamps.delete(name);
      this.#stamps.set(name, { generation: this.#generation, expiresAtMs: now + STAMP_TTL_MS });
    }
  }

  #stampOf(name: string): number {
    const stamp = this.#stamps.get(name);
    return stamp === undefined || stamp.expiresAtMs <= Date.now() ? 0 : stamp.generation;
  }
}

import { LRUCache } from 'lru-cache';
import type { CacheStore, LockAndValue, StoreSetOptions, TaggedDeletion } from './cache-store.js';
import { globToRegExp } from './glob-to-regexp.js';
import { lockThenGet } from './lock-then-get.js';

/** Bounds of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries held at once. Default 10,000. */
  maxEntries?: number;
  /** Most bytes (keys plus values) held at once. Default 64 MiB. */
  maxBytes?: number;
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

  async set(key: string, value: Buffer, options: StoreSetOptions): Promise<void> {
    for (const tagKey of options.tagKeys ?? []) {
      let members = this.#tagIndex.get(tagKey);
      if (members === undefined) {
        members = new Set();
        this.#tagIndex.set(tagKey, members);
      }
      members.add(key);
    }
    this.#entries.set(key, value, { ttl: options.ttlMs });
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      if (this.#entries.delete(key)) deleted++;
    }
    return deleted;
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion> {
    const keys: string[] = [];
    let deleted = 0;
    for (const tagKey of tagKeys) {
      const members = [...(this.#tagIndex.get(tagKey) ?? [])];
      this.#tagIndex.delete(tagKey);
      keys.push(...members);
      deleted += await this.delete(members);
    }
    return { keys, deleted };
  }

  async deleteMatching(pattern: string, exceptPrefix?: string): Promise<number> {
    const matcher = globToRegExp(pattern);
    const isExcepted = (key: string) => exceptPrefix !== undefined && key.startsWith(exceptPrefix);
    return this.delete([...this.#entries.keys()].filter((key) => matcher.test(key) && !isExcepted(key)));
  }

  async ttlSeconds(key: string): Promise<number> {
    if (!this.#entries.has(key)) return -2;
    const remainingMs = this.#entries.getRemainingTTL(key);
    return Number.isFinite(remainingMs) ? Math.round(remainingMs / 1000) : -1;
  }

  async expire(key: string, seconds: number): Promise<boolean> {
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

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
    this.#tagIndex.clear();
    this.#locks.clear();
  }
}

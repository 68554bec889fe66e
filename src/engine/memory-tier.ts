import { LRUCache } from 'lru-cache';
import { compileGlob } from '../keys/glob-match.js';
import type { StoredValue } from './entry-codec.js';

/** Bounds of the in-process tier. */
export interface MemoryTierConfig {
  /** Most entries held. */
  maxEntries: number;
  /** Most bytes held, counted as the entries' stored (serialized) size. */
  maxBytes: number;
  /** Longest time an entry is served from memory without asking Redis, in milliseconds. */
  ttlMs: number;
}

/**
 * A value on its way into memory (read from, or written to, the store). An invalidation of its key
 * while it is on its way voids it: what it carries may be exactly what was invalidated.
 */
export interface PendingFill {
  readonly entryKey: string;
  voided: boolean;
}

/** Share of the tier's lifetime, at its end, in which a hit re-reads the entry from the store ahead of expiry. */
const REFRESH_AHEAD_SHARE = 0.25;

/**
 * Decoded, fresh entries kept in process memory in front of Redis, so a hit costs no round trip
 * and no decoding. Bounded by entries and bytes (LRU) and by a short lifetime of its own, which
 * bounds how long an invalidation missed on the pub/sub channel can go unnoticed.
 */
export class MemoryTier {
  readonly #entries: LRUCache<string, StoredValue<unknown>>;
  readonly #config: MemoryTierConfig;
  readonly #ttlMs: number;
  readonly #refreshAheadMs: number;
  /** Store reads in flight that will refill an entry, so that concurrent misses share one. */
  readonly #refills = new Map<string, Promise<unknown>>();
  /** Fills on their way, by key: only these need to hear of an invalidation besides the entries. */
  readonly #pending = new Map<string, Set<PendingFill>>();

  constructor(config: MemoryTierConfig) {
    this.#config = { ...config };
    this.#ttlMs = config.ttlMs;
    this.#refreshAheadMs = config.ttlMs * REFRESH_AHEAD_SHARE;
    this.#entries = new LRUCache<string, StoredValue<unknown>>({
      max: config.maxEntries,
      maxSize: config.maxBytes,
      allowStale: false,
    });
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held (the stored size of the entries). */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  /** The bounds it was created with. */
  get bounds(): Readonly<MemoryTierConfig> {
    return this.#config;
  }

  /** The entry when it is held and still fresh. */
  get<T>(entryKey: string, now: number): StoredValue<T> | undefined {
    const stored = this.#entries.get(entryKey) as StoredValue<T> | undefined;
    return stored !== undefined && now < stored.freshUntilMs ? stored : undefined;
  }

  /**
   * Whether a held entry is in the last quarter of its time in memory, still fresh beyond it, and
   * not being re-read already: a hot entry is then re-read from the store while its hits go on,
   * instead of expiring and making the requests of that moment wait for Redis. (The bound on
   * staleness is unchanged: what memory serves was read from the store less than `ttlMs` ago.)
   */
  dueForRefresh(entryKey: string, stored: StoredValue<unknown>, now: number): boolean {
    return (
      stored.freshUntilMs - now > this.#refreshAheadMs &&
      this.#entries.getRemainingTTL(entryKey) < this.#refreshAheadMs &&
      !this.#refills.has(entryKey)
    );
  }

  /** Starts a fill of `entryKey`; end it with `set`, or with `endFill` when nothing comes of it. */
  beginFill(entryKey: string): PendingFill {
    const fill: PendingFill = { entryKey, voided: false };
    const fills = this.#pending.get(entryKey);
    if (fills === undefined) this.#pending.set(entryKey, new Set([fill]));
    else fills.add(fill);
    return fill;
  }

  endFill(fill: PendingFill): void {
    const fills = this.#pending.get(fill.entryKey);
    fills?.delete(fill);
    if (fills?.size === 0) this.#pending.delete(fill.entryKey);
  }

  /**
   * Holds a fresh entry for the shorter of its freshness and the tier's own lifetime, and ends `fill`,
   * unless an invalidation of the key voided it meanwhile: the tier never holds what the store no
   * longer does. Without a fill, the value enters memory as it is.
   */
  set(
    entryKey: string,
    stored: StoredValue<unknown>,
    sizeBytes: number,
    now: number,
    fill?: PendingFill,
  ): void {
    if (fill !== undefined) {
      this.endFill(fill);
      if (fill.voided) return;
    }
    const ttl = Math.min(this.#ttlMs, stored.freshUntilMs - now);
    if (ttl <= 0) return;
    this.#entries.set(entryKey, stored, { ttl, size: Math.max(1, sizeBytes + entryKey.length) });
  }

  /**
   * The store read already under way for `entryKey`, to share: when a hot entry expires from the
   * tier, every request in flight for it would otherwise ask Redis at once.
   */
  refillOf<R>(entryKey: string): Promise<R> | undefined {
    return this.#refills.get(entryKey) as Promise<R> | undefined;
  }

  /** Shares `read` with later misses of `entryKey` until it settles, or until the key is dropped. */
  trackRefill(entryKey: string, read: Promise<unknown>): void {
    this.#refills.set(entryKey, read);
    const forget = () => {
      if (this.#refills.get(entryKey) === read) this.#refills.delete(entryKey);
    };
    read.then(forget, forget);
  }

  // Dropping a key also forgets its refill: a read that began before an invalidation must not be
  // shared with readers that come after it.
  delete(entryKeys: readonly string[]): void {
    for (const entryKey of entryKeys) {
      this.#entries.delete(entryKey);
      this.#refills.delete(entryKey);
      this.#voidFills(entryKey);
    }
  }

  /** Drops every entry whose full key matches the Redis glob `pattern`. */
  deleteMatching(pattern: string): void {
    const matcher = compileGlob(pattern);
    for (const entryKey of [...this.#entries.keys(), ...this.#refills.keys(), ...this.#pending.keys()]) {
      if (!matcher.test(entryKey)) continue;
      this.#entries.delete(entryKey);
      this.#refills.delete(entryKey);
      this.#voidFills(entryKey);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#refills.clear();
    for (const entryKey of this.#pending.keys()) this.#voidFills(entryKey);
  }

  #voidFills(entryKey: string): void {
    const fills = this.#pending.get(entryKey);
    if (fills === undefined) return;
    for (const fill of fills) fill.voided = true;
    this.#pending.delete(entryKey);
  }
}

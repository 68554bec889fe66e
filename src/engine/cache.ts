import { CacheOptionError } from '../errors.js';
import type { CacheEvents, LookupResult } from '../events.js';
import { nonNegativeNumber } from '../options.js';
import type { Serializer } from '../serialization/serializer.js';
import { escapeGlob } from '../store/glob-to-regexp.js';
import type { ResilientStore } from '../store/resilient-store.js';
import type { CacheStats, CacheStatsRecorder } from './cache-stats.js';
import type { DistributedLock } from './distributed-lock.js';
import { decodeValue, encodeValue, type StoredValue } from './entry-codec.js';
import { SingleFlight } from './single-flight.js';
import { withSoftTimeout } from './soft-timeout.js';

/** Produces the value of a key on a miss. `null` and `undefined` are returned but never cached. */
export type Loader<T> = (key: string) => T | Promise<T>;

/** Produces the values of the missing keys of `getMany`, in the order of `keys`. */
export type BatchLoader<T> = (keys: string[]) => readonly T[] | Promise<readonly T[]>;

/** Per-call options of `get`, `getMany` and `set`. */
export interface EntryOptions<T> {
  /** Freshness in seconds, or a function of the loaded value; 0 means "do not cache". Default: the cache's `ttl`. */
  ttl?: number | ((value: T) => number | undefined);
  /** Grace period after freshness, in seconds. Default: the cache's `staleTtl`. */
  staleTtl?: number;
  /** Tags for `invalidateTags`, or a function of the loaded value. */
  tags?: readonly string[] | ((value: T) => readonly string[]);
  /** Serializer for this entry. Default: the cache's. */
  serializer?: Serializer;
}

/** What `lookup` found, and how. */
export interface LookupOutcome<T> {
  value: T;
  result: LookupResult;
  /** When the served value was loaded (epoch ms); absent when it was loaded for this call. */
  createdAtMs?: number;
  /** True when this call shared another call's load. */
  coalesced: boolean;
}

/** Internal wiring of a {@link Cache}. */
export interface CacheParts {
  name: string;
  prefix: string;
  ttlSeconds: number;
  staleTtlSeconds: number;
  serializer: Serializer;
  store: ResilientStore;
  lock: DistributedLock;
  failSafe: FailSafeConfig;
  events: CacheEvents;
  stats: CacheStatsRecorder;
}

/** How stale entries are used. */
export interface FailSafeConfig {
  /** Serve a stale entry at once and refresh it in the background. */
  staleWhileRevalidate: boolean;
  /** When a stale entry exists, longest wait for the loader before serving it, in ms (0: no limit). */
  loadTimeoutMs: number;
}

const RESERVED_KEY_PREFIX = '__ca:';

/** A cache-aside cache over a store (Redis, usually). Create one with `createCache`. */
export class Cache {
  /** Events that metrics and logs observe; see `CacheEventMap`. */
  readonly events: CacheEvents;
  /** Name of this cache in metrics and logs. */
  readonly name: string;
  /** Prefix of every key this cache writes. */
  readonly prefix: string;
  readonly #parts: CacheParts;
  readonly #flights = new SingleFlight<LookupOutcome<unknown>>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #refreshing = new Set<string>();

  constructor(parts: CacheParts) {
    this.#parts = parts;
    this.events = parts.events;
    this.name = parts.name;
    this.prefix = parts.prefix;
  }

  /** Cache-aside read: the cached value when fresh, otherwise `loader(key)`, stored for next time. */
  async get<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<T> {
    return (await this.lookup(key, loader, options)).value;
  }

  /** Like `get`, and also says whether the value was a hit, a miss or stale, and how old it is. */
  async lookup<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<LookupOutcome<T>> {
    const entryKey = this.entryKey(key);
    validateEntryOptions(options);
    const serializer = options.serializer ?? this.#parts.serializer;
    const stored = this.#decode<T>(entryKey, serializer, await this.#parts.store.read(entryKey));
    const now = Date.now();
    if (stored !== undefined && now < stored.freshUntilMs) {
      this.#parts.events.emit('lookup', { key, result: 'hit' });
      return { value: stored.value, result: 'hit', createdAtMs: stored.createdAtMs, coalesced: false };
    }
    const stale = stored !== undefined && now < stored.staleUntilMs ? stored : undefined;
    if (stale !== undefined && this.#parts.failSafe.staleWhileRevalidate) {
      this.#refreshInBackground(key, entryKey, loader, options, serializer);
      return this.#serveStale(key, stale);
    }
    const flight = this.#flights.run(entryKey, () => this.#load(key, entryKey, loader, options, serializer));
    if (stale === undefined) return this.#awaitLoad(key, flight);
    // Stale-if-error: the load decides unless it fails or is too slow; then the stale entry answers.
    const loaded = flight.promise as Promise<LookupOutcome<T>>;
    try {
      const outcome = await withSoftTimeout(loaded, this.#parts.failSafe.loadTimeoutMs);
      if (outcome !== undefined) return this.#awaitLoad(key, flight);
      this.#track(loaded);
    } catch {
      // The failure is reported by the `load` event; the caller gets the stale value instead.
    }
    return this.#serveStale(key, stale);
  }

  /** Reads many keys in one round trip and loads all misses with one `loader` call. */
  async getMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options: EntryOptions<T> = {},
  ): Promise<T[]> {
    const entryKeys = keys.map((key) => this.entryKey(key));
    validateEntryOptions(options);
    const serializer = options.serializer ?? this.#parts.serializer;
    const found = await this.#parts.store.readMany(entryKeys);
    const now = Date.now();
    const values: T[] = new Array(keys.length);
    const missing: number[] = [];
    found.forEach((bytes, index) => {
      const stored = this.#decode<T>(entryKeys[index] as string, serializer, bytes);
      const key = keys[index] as string;
      if (stored !== undefined && now < stored.freshUntilMs) {
        values[index] = stored.value;
        this.#parts.events.emit('lookup', { key, result: 'hit' });
      } else {
        missing.push(index);
        this.#parts.events.emit('lookup', { key, result: 'miss' });
      }
    });
    if (missing.length === 0) return values;
    const missingKeys = missing.map((index) => keys[index] as string);
    const loaded = await this.#timeLoad(missingKeys.join(','), () => loader(missingKeys));
    if (!Array.isArray(loaded) || loaded.length !== missing.length) {
      throw new TypeError(
        `getMany: the loader must return an array of ${missing.length} values, in key order`,
      );
    }
    await Promise.all(
      missing.map((keyIndex, loadedIndex) => {
        const value = loaded[loadedIndex] as T;
        values[keyIndex] = value;
        return this.#store(entryKeys[keyIndex] as string, value, options);
      }),
    );
    return values;
  }

  /** Stores `value` under `key` (refreshing its lifetime and tags). `null`/`undefined` are not stored. */
  async set<T>(key: string, value: T, options: EntryOptions<T> = {}): Promise<void> {
    const entryKey = this.entryKey(key);
    validateEntryOptions(options);
    await this.#store(entryKey, value, options);
  }

  /** Deletes one entry; resolves to whether it existed. Retries, then rejects with `E_INVALIDATION_FAILED`. */
  async invalidate(key: string): Promise<boolean> {
    const entryKey = this.entryKey(key);
    const deleted = await this.#parts.store.invalidate('delete', (store) => store.delete([entryKey]));
    this.#parts.events.emit('invalidation', { kind: 'key', count: deleted });
    return deleted > 0;
  }

  /** Deletes every entry stored with any of `tags`; resolves to how many. Retries, then rejects. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const tagKeys = tags.map((tag) => this.#tagKey(tag));
    const { deleted } = await this.#parts.store.invalidate('delete_tagged', (store) =>
      store.deleteTagged(tagKeys),
    );
    this.#parts.events.emit('invalidation', { kind: 'tag', count: deleted });
    return deleted;
  }

  /**
   * Deletes every entry whose key (without prefix) matches the Redis glob `pattern`, with SCAN and
   * UNLINK in batches. It never reaches outside this cache's prefix. Retries, then rejects.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new CacheOptionError('invalidatePattern: `pattern` must be a non-empty string');
    }
    const fullPattern = escapeGlob(this.prefix) + pattern;
    const deleted = await this.#parts.store.invalidate('delete_matching', (store) =>
      store.deleteMatching(fullPattern),
    );
    this.#parts.events.emit('invalidation', { kind: 'pattern', count: deleted });
    return deleted;
  }

  /** Remaining lifetime of an entry in seconds (grace period included): -2 if absent, -1 if it never expires. */
  async ttl(key: string): Promise<number> {
    const entryKey = this.entryKey(key);
    return this.#parts.store.command('ttl', (store) => store.ttlSeconds(entryKey));
  }

  /** Sets the remaining lifetime of an entry in seconds; resolves to false when it does not exist. */
  async expire(key: string, seconds: number): Promise<boolean> {
    const entryKey = this.entryKey(key);
    const validSeconds = nonNegativeNumber(seconds, 'seconds', 0);
    return this.#parts.store.command('expire', (store) => store.expire(entryKey, Math.ceil(validSeconds)));
  }

  /** Counters since creation. */
  stats(): CacheStats {
    return this.#parts.stats.snapshot();
  }

  /** Waits for background refreshes and stops observers. The Redis client stays open: it is yours. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#background]);
    this.#parts.events.removeAllListeners();
  }

  /** The full key under which `key` is stored. Throws for empty keys and the reserved namespace. */
  entryKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new CacheOptionError(`cache key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    if (key.startsWith(RESERVED_KEY_PREFIX)) {
      throw new CacheOptionError(`cache key must not start with the reserved '${RESERVED_KEY_PREFIX}'`);
    }
    return this.prefix + key;
  }

  #tagKey(tag: string): string {
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new CacheOptionError(`tag must be a non-empty string, got ${JSON.stringify(tag)}`);
    }
    return `${this.prefix}${RESERVED_KEY_PREFIX}tag:${tag}`;
  }

  #decode<T>(
    entryKey: string,
    serializer: Serializer,
    bytes: Buffer | undefined,
  ): StoredValue<T> | undefined {
    if (bytes === undefined) return undefined;
    try {
      return decodeValue<T>(serializer, bytes);
    } catch (error) {
      // The next load overwrites the bad entry.
      this.#parts.events.emit('failure', { operation: 'decode', error, key: entryKey });
      return undefined;
    }
  }

  async #awaitLoad<T>(
    key: string,
    flight: { promise: Promise<LookupOutcome<unknown>>; joined: boolean },
  ): Promise<LookupOutcome<T>> {
    this.#parts.events.emit('lookup', { key, result: 'miss' });
    if (flight.joined) this.#parts.events.emit('coalesced', { key });
    const outcome = (await flight.promise) as LookupOutcome<T>;
    return flight.joined ? { ...outcome, coalesced: true } : outcome;
  }

  #serveStale<T>(key: string, stale: StoredValue<T>): LookupOutcome<T> {
    this.#parts.events.emit('lookup', { key, result: 'stale' });
    return { value: stale.value, result: 'stale', createdAtMs: stale.createdAtMs, coalesced: false };
  }

  /** Loads under the cross-instance lock; a peer's stored result counts as coalesced. */
  async #load<T>(
    key: string,
    entryKey: string,
    loader: Loader<T>,
    options: EntryOptions<T>,
    serializer: Serializer,
  ): Promise<LookupOutcome<T>> {
    const guarded = await this.#parts.lock.run(
      this.#lockKey(key),
      () => this.#loadAndStore(key, entryKey, loader, options),
      () => this.#readFresh<T>(entryKey, serializer),
      'wait',
    );
    if (guarded.source === 'peer') {
      this.#parts.events.emit('coalesced', { key });
      const { value, createdAtMs } = guarded.stored;
      return { value, result: 'miss', createdAtMs, coalesced: true };
    }
    return {
      value: guarded.source === 'loaded' ? guarded.value : (undefined as T),
      result: 'miss',
      coalesced: false,
    };
  }

  async #loadAndStore<T>(
    key: string,
    entryKey: string,
    loader: Loader<T>,
    options: EntryOptions<T>,
  ): Promise<T> {
    const value = await this.#timeLoad(key, () => loader(key));
    await this.#store(entryKey, value, options);
    return value;
  }

  async #readFresh<T>(
    entryKey: string,
    serializer: Serializer,
  ): Promise<StoredValue<T> | undefined | 'unavailable'> {
    const bytes = await this.#parts.store.tryRead(entryKey);
    if (bytes === 'unavailable') return bytes;
    const stored = this.#decode<T>(entryKey, serializer, bytes);
    return stored !== undefined && Date.now() < stored.freshUntilMs ? stored : undefined;
  }

  /** One refresh per key per process; across instances, the lock holder refreshes and the rest skip. */
  #refreshInBackground<T>(
    key: string,
    entryKey: string,
    loader: Loader<T>,
    options: EntryOptions<T>,
    serializer: Serializer,
  ): void {
    if (this.#refreshing.has(entryKey)) return;
    this.#refreshing.add(entryKey);
    const refresh = this.#parts.lock
      .run(
        this.#lockKey(key),
        () => this.#loadAndStore(key, entryKey, loader, options),
        () => this.#readFresh<T>(entryKey, serializer),
        'skip',
      )
      .finally(() => this.#refreshing.delete(entryKey));
    this.#track(refresh);
  }

  /** Keeps a background task for `close()` to wait on; its failure is already reported by events. */
  #track(task: Promise<unknown>): void {
    const settled: Promise<unknown> = task
      .catch(() => undefined)
      .finally(() => this.#background.delete(settled));
    this.#background.add(settled);
  }

  #lockKey(key: string): string {
    return `${this.prefix}${RESERVED_KEY_PREFIX}lock:${key}`;
  }

  async #timeLoad<R>(key: string, load: () => R | Promise<R>): Promise<R> {
    const startedAt = performance.now();
    try {
      const value = await load();
      this.#parts.events.emit('load', {
        key,
        durationSeconds: (performance.now() - startedAt) / 1000,
        failed: false,
      });
      return value;
    } catch (error) {
      const durationSeconds = (performance.now() - startedAt) / 1000;
      this.#parts.events.emit('load', { key, durationSeconds, failed: true, error });
      throw error;
    }
  }

  async #store<T>(entryKey: string, value: T, options: EntryOptions<T>): Promise<void> {
    if (value === null || value === undefined) return;
    const ttlSeconds = resolveTtl(options.ttl, value, this.#parts.ttlSeconds);
    if (ttlSeconds === 0) return;
    const staleTtlSeconds = nonNegativeNumber(options.staleTtl, 'staleTtl', this.#parts.staleTtlSeconds);
    const tags = typeof options.tags === 'function' ? options.tags(value) : (options.tags ?? []);
    const tagKeys = tags.map((tag) => this.#tagKey(tag));
    const createdAtMs = Date.now();
    const freshUntilMs = createdAtMs + ttlSeconds * 1000;
    const staleUntilMs = freshUntilMs + staleTtlSeconds * 1000;
    let bytes: Buffer;
    try {
      bytes = encodeValue(options.serializer ?? this.#parts.serializer, {
        value,
        createdAtMs,
        freshUntilMs,
        staleUntilMs,
      });
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'encode', error, key: entryKey });
      return;
    }
    await this.#parts.store.write(entryKey, bytes, { ttlMs: staleUntilMs - createdAtMs, tagKeys });
  }
}

/** Rejects bad per-call options before any work is done (the loader must not run for nothing). */
function validateEntryOptions<T>(options: EntryOptions<T>): void {
  if (typeof options.ttl !== 'function') nonNegativeNumber(options.ttl, 'ttl', 0);
  nonNegativeNumber(options.staleTtl, 'staleTtl', 0);
  if (options.tags !== undefined && typeof options.tags !== 'function' && !Array.isArray(options.tags)) {
    throw new CacheOptionError('`tags` must be an array of strings or a function returning one');
  }
}

function resolveTtl<T>(ttl: EntryOptions<T>['ttl'], value: T, fallback: number): number {
  const seconds = typeof ttl === 'function' ? ttl(value) : ttl;
  if (seconds === 0) return 0;
  return seconds === undefined ? fallback : nonNegativeNumber(seconds, 'ttl', fallback);
}

import type { CacheEvents } from '../events.js';
import { nonNegativeNumber } from '../option-values.js';
import type { Serializer } from '../serialization/serializer.js';
import type { CacheBackend } from './cache-backend.js';
import { CacheInspector } from './cache-inspector.js';
import type { CacheStats, CacheStatsRecorder } from './cache-stats.js';
import type { StoredValue } from './entry-codec.js';
import type { EntryIO } from './entry-io.js';
import {
  type BatchLoader,
  type EntryOptions,
  type Loader,
  type LookupOutcome,
  validateEntryOptions,
} from './entry-options.js';
import type { Invalidator } from './invalidator.js';
import type { KeySpace } from './key-space.js';
import type { LoadCoordinator, LoadRequest } from './load-coordinator.js';
import type { MemoryTier } from './memory-tier.js';
import { withSoftTimeout } from './soft-timeout.js';

export type { BatchLoader, EntryOptions, Loader, LookupOutcome } from './entry-options.js';

/** How stale entries are used. */
export interface FailSafeConfig {
  /** Serve a stale entry at once and refresh it in the background. */
  staleWhileRevalidate: boolean;
  /** When a stale entry exists, longest wait for the loader before serving it, in ms (0: no limit). */
  loadTimeoutMs: number;
}

/** Internal wiring of a {@link Cache}, assembled by `createCache`. */
export interface CacheParts {
  name: string;
  /** Freshness of entries stored without a `ttl` of their own, in seconds. */
  ttlSeconds: number;
  keys: KeySpace;
  serializer: Serializer;
  store: CacheBackend;
  io: EntryIO;
  loads: LoadCoordinator;
  invalidator: Invalidator;
  memory: MemoryTier | undefined;
  failSafe: FailSafeConfig;
  events: CacheEvents;
  stats: CacheStatsRecorder;
  /** Undoes what creation attached to the user's Redis client. */
  release: () => void;
}

/** A cache-aside cache over a store (Redis, usually). Create one with `createCache`. */
export class Cache {
  /** Events that metrics and logs observe; see `CacheEventMap`. */
  readonly events: CacheEvents;
  /** Name of this cache in metrics and logs. */
  readonly name: string;
  /** Prefix of every key this cache writes. */
  readonly prefix: string;
  /** Freshness of entries stored without a `ttl` of their own (the `ttl` option), in seconds. */
  readonly defaultTtlSeconds: number;
  /** Whether a stale entry is served while it is refreshed (else only when loading fails or is slow). */
  readonly staleWhileRevalidate: boolean;
  /** Reads the cache for operators (an entry, a tag's keys, bounded key searches); the admin router uses it. */
  readonly inspector: CacheInspector;
  readonly #parts: CacheParts;

  constructor(parts: CacheParts) {
    this.#parts = parts;
    this.events = parts.events;
    this.name = parts.name;
    this.prefix = parts.keys.prefix;
    this.defaultTtlSeconds = parts.ttlSeconds;
    this.staleWhileRevalidate = parts.failSafe.staleWhileRevalidate;
    const { keys, store, memory, serializer } = parts;
    this.inspector = new CacheInspector({ keys, store, memory, serializer });
  }

  /** Cache-aside read: the cached value when fresh, otherwise `loader(key)`, stored for next time. */
  async get<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<T> {
    return (await this.lookup(key, loader, options)).value;
  }

  /** Like `get`, and also says whether the value was a hit, a miss or stale, and how old it is. */
  async lookup<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<LookupOutcome<T>> {
    const entryKey = this.#parts.keys.entryKey(key);
    validateEntryOptions(options);
    const request: LoadRequest<T> = {
      key,
      entryKey,
      loader,
      options,
      serializer: options.serializer ?? this.#parts.serializer,
    };
    const found = await this.#parts.io.read<T>(entryKey, request.serializer);
    // Redis just failed: taking the lock would only cost another timeout, so load without it. The
    // lease too, when Redis is unreachable (then nothing is stored); when it refused one command only
    // (a key of the wrong type), the lease is read and the value stored over the bad one.
    if (found === 'unavailable') {
      const lease = !this.#parts.store.unreachable;
      return this.#awaitLoad(key, this.#parts.loads.load({ ...request, lock: false, lease }));
    }
    const stored = found;
    const now = Date.now();
    if (stored !== undefined && now < stored.freshUntilMs) {
      this.#parts.events.emit('lookup', { key, result: 'hit' });
      const { createdAtMs, freshUntilMs } = stored;
      return { value: stored.value, result: 'hit', createdAtMs, freshUntilMs, coalesced: false };
    }
    const stale = stored !== undefined && now < stored.staleUntilMs ? stored : undefined;
    if (stale !== undefined && this.#parts.failSafe.staleWhileRevalidate) {
      this.#parts.loads.refreshInBackground({ ...request, stale });
      return this.#serveStale(key, stale);
    }
    const flight = this.#parts.loads.load(
      stale === undefined ? request : { ...request, cause: 'stale-fallback', stale },
    );
    if (stale === undefined) return this.#awaitLoad(key, flight);
    // Stale-if-error: the load decides unless it fails or is too slow; then the stale entry answers.
    try {
      const outcome = await withSoftTimeout(flight.promise, this.#parts.failSafe.loadTimeoutMs);
      if (outcome !== undefined) return this.#awaitLoad(key, flight);
      this.#parts.loads.track(flight.promise);
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
    const entryKeys = keys.map((key) => this.#parts.keys.entryKey(key));
    validateEntryOptions(options);
    const found = await this.#parts.io.readMany<T>(entryKeys, options.serializer ?? this.#parts.serializer);
    const now = Date.now();
    const values: T[] = new Array(keys.length);
    const missing: number[] = [];
    found.forEach((stored, index) => {
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
    // Taken before the loader reads its source: values read before an invalidation are not stored after it.
    const lease = await this.#parts.io.beginLease();
    const loaded = await this.#parts.loads.timeLoad(missingKeys.join(','), () => loader(missingKeys));
    if (!Array.isArray(loaded) || loaded.length !== missing.length) {
      throw new TypeError(
        `getMany: the loader must return an array of ${missing.length} values, in key order`,
      );
    }
    await Promise.all(
      missing.map((keyIndex, loadedIndex) => {
        const value = loaded[loadedIndex] as T;
        values[keyIndex] = value;
        return this.#parts.io.write(entryKeys[keyIndex] as string, value, { ...options, lease });
      }),
    );
    return values;
  }

  /**
   * Stores `value` under `key` (refreshing its lifetime and tags). `null`/`undefined` are not stored.
   * Loads of the key already under way do not overwrite it afterwards. With `options.lease` (from a
   * loader's context) it is instead the loader's own write, refused if an invalidation came after
   * that load began.
   */
  async set<T>(key: string, value: T, options: EntryOptions<T> = {}): Promise<void> {
    const entryKey = this.#parts.keys.entryKey(key);
    validateEntryOptions(options);
    // The application's own write replaces what loads under way read: they are shared no more.
    const ownWrite = options.lease === undefined;
    if (ownWrite) this.#parts.loads.detach({ keys: [entryKey] });
    await this.#parts.io.write(entryKey, value, options);
    // Other instances may hold the previous value in memory. (A load's write replaces nothing newer.)
    if (ownWrite) await this.#parts.invalidator.announce({ keys: [entryKey] });
  }

  /** Deletes one entry; resolves to whether it existed. Retries, then rejects with `E_INVALIDATION_FAILED`. */
  async invalidate(key: string): Promise<boolean> {
    return this.#parts.invalidator.deleteKey(this.#parts.keys.entryKey(key));
  }

  /** Deletes every entry stored with any of `tags`; resolves to how many. Retries, then rejects. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    return this.#parts.invalidator.deleteTagged(tags.map((tag) => this.#parts.keys.tagKey(tag)));
  }

  /**
   * Deletes every entry whose key (without prefix) matches the Redis glob `pattern`, with SCAN and
   * UNLINK in batches. It never reaches outside this cache's prefix. Retries, then rejects.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    const keys = this.#parts.keys;
    return this.#parts.invalidator.deleteMatching(keys.entryPattern(pattern), keys.reservedPrefix);
  }

  /** Remaining lifetime of an entry in seconds (grace period included): -2 if absent, -1 if it never expires. */
  async ttl(key: string): Promise<number> {
    const entryKey = this.#parts.keys.entryKey(key);
    return this.#parts.store.command('ttl', (store) => store.ttlSeconds(entryKey));
  }

  /** Sets the remaining lifetime of an entry in seconds; resolves to false when it does not exist. */
  async expire(key: string, seconds: number): Promise<boolean> {
    const entryKey = this.#parts.keys.entryKey(key);
    const validSeconds = nonNegativeNumber(seconds, 'seconds', 0);
    this.#parts.invalidator.dropLocal({ keys: [entryKey] });
    const changed = await this.#parts.store.command('expire', (store) =>
      store.expire(entryKey, Math.ceil(validSeconds)),
    );
    // Again: a read that began after the first drop may have found the entry before the change.
    this.#parts.invalidator.dropLocal({ keys: [entryKey] });
    // Other instances' tiers may hold the entry past its new lifetime.
    await this.#parts.invalidator.announce({ keys: [entryKey] });
    return changed;
  }

  /** Counters since creation. */
  stats(): CacheStats {
    const memory = this.#parts.memory;
    return {
      ...this.#parts.stats.snapshot(),
      memoryEntries: memory?.size ?? 0,
      memoryBytes: memory?.bytes ?? 0,
    };
  }

  /** Waits for background refreshes, stops listening and stops observers. The Redis client stays open: it is yours. */
  async close(): Promise<void> {
    await this.#parts.loads.drain();
    await this.#parts.invalidator.close();
    this.#parts.memory?.clear();
    this.#parts.release();
    this.#parts.events.removeAllListeners();
  }

  /** The full key under which `key` is stored. Throws for empty keys and the reserved namespace. */
  entryKey(key: string): string {
    return this.#parts.keys.entryKey(key);
  }

  async #awaitLoad<T>(
    key: string,
    flight: { promise: Promise<LookupOutcome<T>>; joined: boolean },
  ): Promise<LookupOutcome<T>> {
    this.#parts.events.emit('lookup', { key, result: 'miss' });
    if (flight.joined) this.#parts.events.emit('coalesced', { key });
    return flight.promise;
  }

  #serveStale<T>(key: string, stale: StoredValue<T>): LookupOutcome<T> {
    this.#parts.events.emit('lookup', { key, result: 'stale' });
    const { createdAtMs, freshUntilMs } = stale;
    return { value: stale.value, result: 'stale', createdAtMs, freshUntilMs, coalesced: false };
  }
}

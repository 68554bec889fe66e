import type { CacheEvents, CacheMode } from '../events.js';
import { nonNegativeNumber } from '../option-values.js';
import type { Serializer } from '../serialization/serializer.js';
import type { CacheBackend } from './cache-backend.js';
import { CacheInspector } from './cache-inspector.js';
import { checkedEverywhere, checkedMode, type ModeSwitch, type SetModeOptions } from './cache-mode.js';
import type { CacheStats, CacheStatsRecorder } from './cache-stats.js';
import type { CacheSpan, CacheTracer } from './cache-tracer.js';
import type { StoredValue } from './entry-codec.js';
import type { EntryIO } from './entry-io.js';
import {
  type BatchLoader,
  type EntryOptions,
  type Loader,
  type LookupOutcome,
  loadedValue,
  type ShadowVerdict,
  validateEntryOptions,
} from './entry-options.js';
import { type InvalidateOptions, validateInvalidateOptions } from './invalidate-options.js';
import type { Invalidator } from './invalidator.js';
import type { KeySpace } from './key-space.js';
import type { LoadCoordinator, LoadRequest } from './load-coordinator.js';
import type { MemoryTier } from './memory-tier.js';
import { shadowLookup, shadowMatch, wouldAnswer } from './shadow-lookup.js';
import { withSoftTimeout } from './soft-timeout.js';

export type { SetModeOptions } from './cache-mode.js';
export type { BatchLoader, EntryOptions, Loader, LookupOutcome, ShadowVerdict } from './entry-options.js';
export type { InvalidateOptions } from './invalidate-options.js';

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
  /** This instance's mode, which `setMode` and switches from other instances change. */
  modes: ModeSwitch;
  memory: MemoryTier | undefined;
  failSafe: FailSafeConfig;
  events: CacheEvents;
  stats: CacheStatsRecorder;
  tracer: CacheTracer;
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
  /** The `version` its entries are written and read under; `undefined` when it has none. */
  readonly version: string | undefined;
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
    this.version = parts.keys.version;
    this.defaultTtlSeconds = parts.ttlSeconds;
    this.staleWhileRevalidate = parts.failSafe.staleWhileRevalidate;
    const { keys, store, memory, serializer } = parts;
    this.inspector = new CacheInspector({ keys, store, memory, serializer });
  }

  /**
   * What this instance does with lookups: `on` (cache-aside, the default), `off` (every lookup runs its
   * loader, nothing is read or stored) or `shadow` (lookups and stores happen, every answer is the
   * loader's, and what the cache would have answered is reported as `shadow` events).
   */
  get mode(): CacheMode {
    return this.#parts.modes.current;
  }

  /**
   * Switches this instance to `mode` at once, and with `{ everywhere: true }` every instance of the
   * cache (same prefix, same Redis) through its invalidation channel; resolves once that switch is
   * published. Rejects with a `CacheOptionError` for a bad argument (nothing switches), and with a
   * `CacheError` when the switch could not be published (this instance has switched all the same).
   * An instance that starts, or whose subscription is down, when a switch is published does not learn
   * of it. Loads under way finish as they began. Invalidations and `set` work in every mode.
   */
  async setMode(mode: CacheMode, options?: SetModeOptions): Promise<void> {
    const checked = checkedMode(mode);
    const everywhere = checkedEverywhere(options);
    this.#parts.modes.apply(checked, false);
    if (everywhere) await this.#parts.invalidator.announceMode(checked);
  }

  /** Cache-aside read: the cached value when fresh, otherwise `loader(key)`, stored for next time. */
  async get<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<T> {
    const outcome = await this.lookup(key, loader, options);
    if (outcome.shadow !== undefined) {
      this.#reportShadow(key, outcome.shadow, outcome.value, options.serializer ?? this.#parts.serializer);
    }
    return outcome.value;
  }

  /**
   * Like `get`, and also says whether the value was a hit, a miss or stale, and how old it is. In
   * shadow mode, `shadow` says what the cache would have answered; `lookup` does not report it itself.
   */
  lookup<T>(key: string, loader: Loader<T>, options: EntryOptions<T> = {}): Promise<LookupOutcome<T>> {
    let request: LoadRequest<T>;
    try {
      const entryKey = this.#parts.keys.entryKey(key);
      validateEntryOptions(options);
      request = {
        key,
        entryKey,
        loader,
        options,
        serializer: options.serializer ?? this.#parts.serializer,
      };
    } catch (error) {
      return Promise.reject(error);
    }
    const mode = this.#parts.modes.current;
    if (mode === 'off') return loaderOnly(request);
    if (mode === 'shadow') {
      const { io, loads, failSafe } = this.#parts;
      return shadowLookup({ io, loads, staleWhileRevalidate: failSafe.staleWhileRevalidate }, request);
    }
    return this.#parts.tracer.span('cache.lookup', request.entryKey, (span) => this.#lookup(request, span));
  }

  async #lookup<T>(request: LoadRequest<T>, span: CacheSpan): Promise<LookupOutcome<T>> {
    const { key, entryKey } = request;
    if (request.options.route !== undefined) span.note('route', request.options.route);
    const found = await this.#parts.io.read<T>(entryKey, request.serializer);
    // Redis just failed: taking the lock would only cost another timeout, so load without it. The
    // lease too, when Redis is unreachable (then nothing is stored); when it refused one command only
    // (a key of the wrong type), the lease is read and the value stored over the bad one.
    if (found === 'unavailable') {
      const lease = !this.#parts.store.unreachable;
      return this.#awaitLoad(key, this.#parts.loads.load({ ...request, lock: false, lease }), span);
    }
    const stored = found;
    const now = Date.now();
    if (stored !== undefined && now < stored.freshUntilMs) {
      this.#parts.events.emit('lookup', { key, result: 'hit' });
      span.note('result', 'hit');
      const { createdAtMs, freshUntilMs } = stored;
      return { value: stored.value, result: 'hit', createdAtMs, freshUntilMs, coalesced: false };
    }
    const stale = stored !== undefined && now < stored.staleUntilMs ? stored : undefined;
    if (stale !== undefined && this.#parts.failSafe.staleWhileRevalidate) {
      this.#parts.loads.refreshInBackground({ ...request, stale });
      return this.#serveStale(key, stale, span);
    }
    const flight = this.#parts.loads.load(
      stale === undefined ? request : { ...request, cause: 'stale-fallback', stale },
    );
    if (stale === undefined) return this.#awaitLoad(key, flight, span);
    // Stale-if-error: the load decides unless it fails or is too slow; then the stale entry answers.
    try {
      const outcome = await withSoftTimeout(flight.promise, this.#parts.failSafe.loadTimeoutMs);
      if (outcome !== undefined) return this.#awaitLoad(key, flight, span);
      this.#parts.loads.track(flight.promise);
    } catch {
      // The failure is reported by the `load` event; the caller gets the stale value instead.
    }
    return this.#serveStale(key, stale, span);
  }

  /** Reads many keys in one round trip and loads all misses with one `loader` call. */
  async getMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options: EntryOptions<T> = {},
  ): Promise<T[]> {
    const entryKeys = keys.map((key) => this.#parts.keys.entryKey(key));
    validateEntryOptions(options);
    const mode = this.#parts.modes.current;
    if (mode === 'off') return checkedBatch(await loader([...keys]), keys.length);
    if (mode === 'shadow') return this.#shadowGetMany(keys, entryKeys, loader, options);
    return this.#parts.tracer.span('cache.lookup', undefined, (span) =>
      this.#getMany(keys, entryKeys, loader, options, span),
    );
  }

  async #getMany<T>(
    keys: readonly string[],
    entryKeys: readonly string[],
    loader: BatchLoader<T>,
    options: EntryOptions<T>,
    span: CacheSpan,
  ): Promise<T[]> {
    if (options.route !== undefined) span.note('route', options.route);
    span.note('keyCount', keys.length);
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
    span.note('hitCount', keys.length - missing.length);
    span.note('result', missing.length === 0 ? 'hit' : 'miss');
    if (missing.length === 0) return values;
    const missingKeys = missing.map((index) => keys[index] as string);
    // Taken before the loader reads its source: values read before an invalidation are not stored after it.
    const lease = await this.#parts.io.beginLease();
    const loaded = checkedBatch(
      await this.#parts.loads.timeLoad(missingKeys.join(','), () => loader(missingKeys), {
        keyCount: missingKeys.length,
        group: options.group,
      }),
      missing.length,
    );
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

  /**
   * Deletes one entry, with a `version` in every version unless `{ allVersions: false }`; resolves
   * to whether one existed. Retries, then rejects with `E_INVALIDATION_FAILED`; the invalidation is
   * then queued and replayed once Redis answers (see `invalidationQueue`). With
   * `{ queueOnFailure: true }`, a queued invalidation resolves to `'queued'`.
   */
  invalidate(key: string): Promise<boolean>;
  invalidate(key: string, options: InvalidateOptions): Promise<boolean | 'queued'>;
  async invalidate(key: string, options?: InvalidateOptions): Promise<boolean | 'queued'> {
    const valid = validateInvalidateOptions(options, 'invalidate');
    const keys = this.#parts.keys;
    const entryKey = keys.entryKey(key);
    return this.#parts.tracer.span('cache.invalidate', entryKey, async (span) => {
      span.note('kind', 'key');
      const invalidator = this.#parts.invalidator;
      const deleted =
        keys.version === undefined || valid.allVersions === false
          ? await invalidator.deleteKey(entryKey, valid)
          : await invalidator.deleteKeyInEveryVersion(entryKey, keys.versionIndexKey(key), valid);
      noteDeleted(span, deleted === 'queued' ? deleted : deleted ? 1 : 0);
      return deleted;
    });
  }

  /** Deletes every entry stored with any of `tags`; resolves to how many. Fails as `invalidate` does. */
  invalidateTags(tags: readonly string[]): Promise<number>;
  invalidateTags(tags: readonly string[], options: InvalidateOptions): Promise<number | 'queued'>;
  async invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<number | 'queued'> {
    const valid = validateInvalidateOptions(options, 'invalidateTags', ['queueOnFailure']);
    const tagKeys = tags.map((tag) => this.#parts.keys.tagKey(tag));
    return this.#parts.tracer.span('cache.invalidate', undefined, async (span) => {
      span.note('kind', 'tag');
      const deleted = await this.#parts.invalidator.deleteTagged(tagKeys, valid);
      noteDeleted(span, deleted);
      return deleted;
    });
  }

  /**
   * Deletes every entry whose key (without prefix) matches the Redis glob `pattern`, with SCAN and
   * UNLINK in batches, with a `version` in every version unless `{ allVersions: false }`. It never
   * reaches outside this cache's entries. Fails as `invalidate` does.
   */
  invalidatePattern(pattern: string): Promise<number>;
  invalidatePattern(pattern: string, options: InvalidateOptions): Promise<number | 'queued'>;
  async invalidatePattern(pattern: string, options?: InvalidateOptions): Promise<number | 'queued'> {
    const valid = validateInvalidateOptions(options, 'invalidatePattern');
    const { glob, exceptPrefix } = this.#parts.keys.entryPattern(pattern, valid.allVersions !== false);
    return this.#parts.tracer.span('cache.invalidate', undefined, async (span) => {
      span.note('kind', 'pattern');
      const deleted = await this.#parts.invalidator.deleteMatching(glob, exceptPrefix, valid);
      noteDeleted(span, deleted);
      return deleted;
    });
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
      queuedInvalidations: this.#parts.invalidator.queued,
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

  /** The full key under which `key` is stored (in this cache's version). Throws for empty keys and the reserved namespace. */
  entryKey(key: string): string {
    return this.#parts.keys.entryKey(key);
  }

  /** `getMany` in shadow mode: every key is read, and loaded, and stored as `shadowLookup` stores one. */
  async #shadowGetMany<T>(
    keys: readonly string[],
    entryKeys: readonly string[],
    loader: BatchLoader<T>,
    options: EntryOptions<T>,
  ): Promise<T[]> {
    const { io, loads, failSafe } = this.#parts;
    const serializer = options.serializer ?? this.#parts.serializer;
    const [found, lease] = await Promise.all([io.readMany<T>(entryKeys, serializer), io.beginLease()]);
    const now = Date.now();
    const verdicts = found.map((stored) => wouldAnswer(stored, failSafe.staleWhileRevalidate, now));
    const loaded = checkedBatch(await loads.timeLoad(keys.join(','), () => loader([...keys])), keys.length);
    await Promise.all(
      verdicts.map((verdict, index) =>
        verdict.would === 'hit'
          ? undefined
          : io.write(entryKeys[index] as string, loaded[index] as T, { ...options, lease }),
      ),
    );
    verdicts.forEach((verdict, index) => {
      this.#reportShadow(keys[index] as string, verdict, loaded[index] as T, serializer);
    });
    return loaded;
  }

  #reportShadow<T>(key: string, verdict: ShadowVerdict<T>, fresh: T, serializer: Serializer): void {
    const match = shadowMatch(verdict, fresh, serializer);
    this.#parts.events.emit('shadow', { key, would: verdict.would, match });
  }

  async #awaitLoad<T>(
    key: string,
    flight: { promise: Promise<LookupOutcome<T>>; joined: boolean },
    span: CacheSpan,
  ): Promise<LookupOutcome<T>> {
    this.#parts.events.emit('lookup', { key, result: 'miss' });
    span.note('result', 'miss');
    if (flight.joined) this.#parts.events.emit('coalesced', { key });
    const outcome = await flight.promise;
    if (outcome.coalesced) span.note('coalesced', true);
    return outcome;
  }

  #serveStale<T>(key: string, stale: StoredValue<T>, span: CacheSpan): LookupOutcome<T> {
    this.#parts.events.emit('lookup', { key, result: 'stale' });
    span.note('result', 'stale');
    const { createdAtMs, freshUntilMs } = stale;
    return { value: stale.value, result: 'stale', createdAtMs, freshUntilMs, coalesced: false };
  }
}

/** An invalidation's span: how many entries went, or that it waits in the queue. */
function noteDeleted(span: CacheSpan, deleted: number | 'queued'): void {
  if (deleted === 'queued') span.note('result', 'queued');
  else span.note('count', deleted);
}

/** The values of a batch loader, checked: one per key asked for, in key order. */
function checkedBatch<T>(loaded: readonly T[], count: number): T[] {
  if (!Array.isArray(loaded) || loaded.length !== count) {
    throw new TypeError(`getMany: the loader must return an array of ${count} values, in key order`);
  }
  return Array.from(loaded);
}

/** Mode `off`: the loader answers; nothing is read or stored. */
async function loaderOnly<T>(request: LoadRequest<T>): Promise<LookupOutcome<T>> {
  const value = loadedValue(await request.loader(request.key, { cause: 'miss' }));
  return { value, result: 'miss', coalesced: false };
}

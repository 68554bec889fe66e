import type { CacheEvents } from '../events.js';
import { nonNegativeNumber } from '../option-values.js';
import { encodeTimes, timesOffset } from '../serialization/entry-envelope.js';
import type { Serializer } from '../serialization/serializer.js';
import type { Lease, StoreWriteResult } from '../store/cache-store.js';
import type { CacheBackend, HeldLock, LeaseGrant } from './cache-backend.js';
import type { CacheSpan, CacheTracer, SkippedWriteReason } from './cache-tracer.js';
import { decodeValue, encodeValue, type StoredValue } from './entry-codec.js';
import { type EntryOptions, resolveTtlSeconds } from './entry-options.js';
import type { KeySpace } from './key-space.js';
import { LoadLease } from './load-lease.js';
import type { MemoryTier, PendingFill } from './memory-tier.js';
import { ownedBytes } from './owned-bytes.js';
import { jitteredLifetimeMs, type RandomSource } from './ttl-jitter.js';

/** Whether two values serialize to the same bytes: then only the times of their entry differ. */
export function encodesAlike<T>(serializer: Serializer, left: T, right: T): boolean {
  try {
    return serializer.serialize(left).equals(serializer.serialize(right));
  } catch {
    return false;
  }
}

/** What {@link EntryIO} needs. */
export interface EntryIOParts {
  keys: KeySpace;
  store: CacheBackend;
  memory: MemoryTier | undefined;
  events: CacheEvents;
  tracer: CacheTracer;
  serializer: Serializer;
  ttlSeconds: number;
  staleTtlSeconds: number;
  /** Largest share of an entry's freshness that a write takes off at random, in [0, 1). */
  ttlJitter: number;
  /** Where that share is drawn from (`Math.random`, or a seeded source in specs). */
  random: RandomSource;
}

/**
 * Reads and writes entries through the tiers: memory first (when enabled), then the store, with
 * decoding, encoding and their failures (a bad entry reads as absent and is overwritten later).
 */
export class EntryIO {
  readonly #parts: EntryIOParts;

  constructor(parts: EntryIOParts) {
    this.#parts = parts;
  }

  /** The stored entry (fresh or stale), `undefined` when absent, `'unavailable'` when the store failed; never throws. */
  read<T>(entryKey: string, serializer: Serializer): Promise<StoredValue<T> | undefined | 'unavailable'> {
    const memory = this.#parts.memory;
    if (memory === undefined) return this.#readStore<T>(entryKey, serializer);
    const now = Date.now();
    const held = memory.get<T>(entryKey, now);
    if (held !== undefined) {
      if (memory.dueForRefresh(entryKey, held, now)) this.#refreshAhead(memory, entryKey, serializer);
      return Promise.resolve(held);
    }
    // Misses of the in-process tier share one store read and one decoded value, as its hits do.
    type Found = StoredValue<T> | undefined | 'unavailable';
    const refill = memory.refillOf<Found>(entryKey);
    if (refill !== undefined) return refill;
    const read = this.#readStore<T>(entryKey, serializer);
    memory.trackRefill(entryKey, read);
    return read;
  }

  /** Re-reads a held entry in the background; one gone from the store leaves memory too. */
  #refreshAhead(memory: MemoryTier, entryKey: string, serializer: Serializer): void {
    const read = this.#readStore(entryKey, serializer);
    memory.trackRefill(entryKey, read);
    // An entry the store no longer has was invalidated or evicted there: memory lets it go now
    // rather than at the end of its lifetime.
    void read.then((found) => {
      if (found === undefined) memory.delete([entryKey]);
    });
  }

  async #readStore<T>(
    entryKey: string,
    serializer: Serializer,
  ): Promise<StoredValue<T> | undefined | 'unavailable'> {
    const fill = this.#parts.memory?.beginFill(entryKey);
    const bytes = await this.#parts.store.tryRead(entryKey);
    if (bytes === 'unavailable') {
      if (fill !== undefined) this.#parts.memory?.endFill(fill);
      return bytes;
    }
    return this.#decodeAndHold<T>(entryKey, serializer, bytes, fill);
  }

  /** Like `read` for many keys, with one store round trip for those not in memory. */
  async readMany<T>(
    entryKeys: readonly string[],
    serializer: Serializer,
  ): Promise<(StoredValue<T> | undefined)[]> {
    const now = Date.now();
    const found = entryKeys.map((entryKey) => this.#parts.memory?.get<T>(entryKey, now));
    const absent = entryKeys.filter((_, index) => found[index] === undefined);
    if (absent.length === 0) return found;
    const fills = absent.map((entryKey) => this.#parts.memory?.beginFill(entryKey));
    const bytes = await this.#parts.store.readMany(absent);
    let next = 0;
    return found.map((held, index) => {
      if (held !== undefined) return held;
      const fill = fills[next];
      return this.#decodeAndHold<T>(entryKeys[index] as string, serializer, bytes[next++], fill);
    });
  }

  /** The entry in `bytes`, read from the store past the memory tier, if it is fresh. */
  decodeFresh<T>(
    entryKey: string,
    serializer: Serializer,
    bytes: Buffer | undefined,
  ): StoredValue<T> | undefined {
    // These re-reads follow a lookup that already reported a bad entry: reporting it again
    // would count one failure several times.
    const stored = this.#decodeAndHold<T>(entryKey, serializer, bytes, undefined, false);
    return stored !== undefined && Date.now() < stored.freshUntilMs ? stored : undefined;
  }

  /** The lease of a load about to begin; read before the loader reads its source. Never throws. */
  async beginLease(): Promise<LoadLease> {
    return this.leaseOf(await this.#parts.store.tryReadLease());
  }

  /** A lease for a load that asks the store for none (it was just found unreachable): nothing is stored. */
  noLease(): LoadLease {
    return this.leaseOf('unavailable');
  }

  /** The lease of a load about to begin, as the store granted it with the load's lock (`DistributedLock`). */
  leaseOf(grant: LeaseGrant): LoadLease {
    return new LoadLease(grant, this);
  }

  /**
   * Stores a value with its lifetime and tags; `null`, `undefined` and a ttl of 0 store nothing. With
   * `options.lease` (a load's value), nothing is stored if an invalidation came after the load began.
   * Never throws for store failures.
   */
  write<T>(entryKey: string, value: T, options: EntryOptions<T>, lock?: HeldLock): Promise<void> {
    return this.#parts.tracer.span('cache.write', entryKey, (span) =>
      this.#write(entryKey, value, options, span, lock),
    );
  }

  /** With `lock` (the load's stampede lock), the store may release it with the write (see `HeldLock`). */
  async #write<T>(
    entryKey: string,
    value: T,
    options: EntryOptions<T>,
    span: CacheSpan,
    lock?: HeldLock,
  ): Promise<void> {
    if (value === null || value === undefined) return skipped(span, 'no-value');
    const grant = this.#grantOf(entryKey, options, span);
    if (grant === 'unavailable') return;
    const entry = this.#entryOf(entryKey, value, options);
    if (entry === undefined) return skipped(span, 'not-fresh');
    const bytes = this.#encode(entryKey, entry.stored, options, span);
    if (bytes === undefined) return;
    const { stored, ttlMs, tagKeys } = entry;
    const written = await this.#hold(entryKey, stored, bytes.length, () =>
      this.#parts.store.write(
        entryKey,
        bytes,
        grant === 'none' ? { ttlMs, tagKeys } : { ttlMs, tagKeys, lease: grant },
        lock,
      ),
    );
    noteWritten(span, written);
  }

  /**
   * Makes a stale entry fresh again, its loader having found it still current (RFC 9111 §4.3.4), only
   * if it is still the entry that was read (compared by its times, in the same step): its times are
   * rewritten in place, a small write, or, when `value` no longer encodes as the stale value did
   * (updated headers), the whole entry. An entry replaced or deleted since is left alone. A store
   * without leases or without `renew` gets the whole entry written, as any load's value. Resolves to
   * whether it was renewed.
   */
  renew<T>(entryKey: string, stale: StoredValue<T>, value: T, options: EntryOptions<T>): Promise<boolean> {
    return this.#parts.tracer.span('cache.write', entryKey, (span) => {
      span.note('renewal', true);
      return this.#renew(entryKey, stale, value, options, span);
    });
  }

  async #renew<T>(
    entryKey: string,
    stale: StoredValue<T>,
    value: T,
    options: EntryOptions<T>,
    span: CacheSpan,
  ): Promise<boolean> {
    const grant = this.#grantOf(entryKey, options, span);
    if (grant === 'unavailable') return false;
    if (grant === 'none') {
      await this.#write(entryKey, value, options, span);
      return true;
    }
    const entry = this.#entryOf(entryKey, value, options);
    if (entry === undefined) {
      skipped(span, 'not-fresh');
      return false;
    }
    const bytes = this.#encode(entryKey, entry.stored, options, span);
    if (bytes === undefined) return false;
    const serializer = options.serializer ?? this.#parts.serializer;
    const { stored, ttlMs, tagKeys } = entry;
    const renewal = {
      offset: timesOffset(serializer.name),
      expected: encodeTimes(stale.createdAtMs, stale.freshUntilMs, stale.staleUntilMs),
      times: encodeTimes(stored.createdAtMs, stored.freshUntilMs, stored.staleUntilMs),
      ttlMs,
      tagKeys,
      lease: grant,
      ...(encodesAlike(serializer, value, stale.value) ? {} : { value: bytes }),
    };
    const renewed: { outcome: Awaited<ReturnType<CacheBackend['renew']>> } = { outcome: 'failed' };
    await this.#hold(entryKey, stored, bytes.length, async () => {
      const outcome = await this.#parts.store.renew(entryKey, renewal);
      renewed.outcome = outcome;
      // Replaced or deleted since it was read (an invalidation, a newer write): nothing to renew.
      return outcome === 'changed' || outcome === 'unsupported' ? 'failed' : outcome;
    });
    if (renewed.outcome === 'unsupported') {
      await this.#write(entryKey, value, options, span);
      return true;
    }
    if (renewed.outcome === 'changed') skipped(span, 'changed');
    else noteWritten(span, renewed.outcome);
    return renewed.outcome === 'stored';
  }

  /** The lease to write under (`'none'`: the application's own write); reports a lease that failed. */
  #grantOf<T>(entryKey: string, options: EntryOptions<T>, span: CacheSpan): Lease | 'none' | 'unavailable' {
    const grant = options.lease === undefined ? 'none' : LoadLease.grantOf(options.lease, this);
    // Without a lease nothing tells whether an invalidation came after the load began.
    if (grant === 'unavailable') {
      this.#parts.events.emit('write-refused', { key: entryKey, reason: 'lease-unavailable' });
      noteWritten(span, 'lease-unavailable');
    }
    return grant;
  }

  /**
   * The entry a value makes under `options`: its times, lifetime in the store and index keys (its
   * tags', and its key's in every version when the cache has a version);
   * `undefined` when it is not to be stored (a ttl of 0, or older than its ttl already).
   */
  #entryOf<T>(
    entryKey: string,
    value: T,
    options: EntryOptions<T>,
  ): { stored: StoredValue<T>; ttlMs: number; tagKeys: string[] } | undefined {
    const ttlSeconds = resolveTtlSeconds(options.ttl, value, this.#parts.ttlSeconds);
    if (ttlSeconds === 0) return undefined;
    const staleTtl = typeof options.staleTtl === 'function' ? options.staleTtl(value) : options.staleTtl;
    const staleTtlSeconds = nonNegativeNumber(staleTtl, 'staleTtl', this.#parts.staleTtlSeconds);
    const ageSeconds = nonNegativeNumber(options.age?.(value), 'age', 0);
    const tags = typeof options.tags === 'function' ? options.tags(value) : (options.tags ?? []);
    const keys = this.#parts.keys;
    // A versioned entry also joins the index of its key in every version, as it joins its tags'.
    const tagKeys = [...tags.map((tag) => keys.tagKey(tag)), ...keys.versionIndexOf(entryKey)];
    const now = Date.now();
    // A value that was already `ageSeconds` old is dated back: its age and its freshness count from then.
    const createdAtMs = now - ageSeconds * 1000;
    const { ttlJitter, random } = this.#parts;
    const freshUntilMs = createdAtMs + jitteredLifetimeMs(ttlSeconds * 1000, ttlJitter, random);
    // Arrived already stale: it is not stored as fresh.
    if (freshUntilMs <= now) return undefined;
    // The stale window keeps its length and moves with the jittered freshness, so the entry also
    // leaves the store at a spread time, and never later than its ttl and staleTtl said.
    const staleUntilMs = freshUntilMs + staleTtlSeconds * 1000;
    return { stored: { value, createdAtMs, freshUntilMs, staleUntilMs }, ttlMs: staleUntilMs - now, tagKeys };
  }

  #encode<T>(
    entryKey: string,
    stored: StoredValue<T>,
    options: EntryOptions<T>,
    span: CacheSpan,
  ): Buffer | undefined {
    try {
      return encodeValue(options.serializer ?? this.#parts.serializer, stored);
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'encode', error, key: entryKey });
      span.note('result', 'failed');
      return undefined;
    }
  }

  /**
   * Runs a store write and keeps its value in memory only if the store took it: a write it refused left
   * no tag index there, so no later invalidation could find the value. (The caller still gets its
   * value; it just is not kept.)
   */
  async #hold<T>(
    entryKey: string,
    stored: StoredValue<T>,
    byteLength: number,
    storeWrite: () => Promise<StoreWriteResult | 'failed'>,
  ): Promise<StoreWriteResult | 'failed'> {
    const memory = this.#parts.memory;
    const fill = memory?.beginFill(entryKey);
    const written = await storeWrite();
    if (written === 'invalidated' || written === 'lease-expired') {
      this.#parts.events.emit('write-refused', { key: entryKey, reason: written });
    }
    if (memory === undefined || fill === undefined) return written;
    if (written === 'stored') memory.set(entryKey, stored, byteLength, Date.now(), fill);
    else memory.endFill(fill);
    return written;
  }

  #decodeAndHold<T>(
    entryKey: string,
    serializer: Serializer,
    bytes: Buffer | undefined,
    fill: PendingFill | undefined,
    reportFailure = true,
  ): StoredValue<T> | undefined {
    if (bytes === undefined) {
      if (fill !== undefined) this.#parts.memory?.endFill(fill);
      return undefined;
    }
    const memory = this.#parts.memory;
    try {
      // A decoded value may keep views into `bytes` (a response's body does), and `bytes` is a view
      // into the chunk the store's reply came in: what memory holds is decoded from a copy of its own.
      const stored = decodeValue<T>(
        serializer,
        memory === undefined ? bytes : ownedBytes([bytes], bytes.length),
      );
      memory?.set(entryKey, stored, bytes.length, Date.now(), fill);
      return stored;
    } catch (error) {
      if (fill !== undefined) this.#parts.memory?.endFill(fill);
      if (reportFailure) this.#parts.events.emit('failure', { operation: 'decode', error, key: entryKey });
      return undefined;
    }
  }
}

function skipped(span: CacheSpan, reason: SkippedWriteReason): void {
  span.note('result', 'skipped');
  span.note('reason', reason);
}

/** The outcome of a write on its span: stored, refused (and why), or failed (the store failed). */
function noteWritten(span: CacheSpan, written: StoreWriteResult | 'failed' | 'lease-unavailable'): void {
  if (written === 'stored' || written === 'failed') {
    span.note('result', written);
    return;
  }
  span.note('result', 'refused');
  span.note('reason', written);
}

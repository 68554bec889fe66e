import type { CacheEventMap, CacheEvents } from '../events.js';
import { compileGlob } from '../keys/glob-match.js';
import type { Serializer } from '../serialization/serializer.js';
import type { HeldLock } from './cache-backend.js';
import type { CacheTracer } from './cache-tracer.js';
import type { DistributedLock, PeerResult } from './distributed-lock.js';
import type { StoredValue } from './entry-codec.js';
import type { EntryIO } from './entry-io.js';
import {
  type EntryOptions,
  groupOfLoad,
  type LoadCause,
  type LoadContext,
  type Loader,
  type LoadGroup,
  type LookupOutcome,
  Revalidated,
} from './entry-options.js';
import type { KeySpace } from './key-space.js';
import type { LoadLease } from './load-lease.js';
import { SingleFlight } from './single-flight.js';
import { withSoftTimeout } from './soft-timeout.js';

/** One load to run: what to load, where to store it, how to encode it. */
export interface LoadRequest<T> {
  key: string;
  entryKey: string;
  loader: Loader<T>;
  options: EntryOptions<T>;
  serializer: Serializer;
  /** Whether to take the cross-instance lock; false when the store just failed. Default true. */
  lock?: boolean;
  /**
   * Whether to read a lease; false when the store was just found unreachable (the read would only
   * cost another timeout before the loader runs). Without a lease the value is not stored. Default true.
   */
  lease?: boolean;
  /** Why the load runs, as told to the loader. Default `'miss'`. */
  cause?: LoadCause;
  /** With cause `stale-fallback` or a background refresh: the stale entry, as told to the loader. */
  stale?: StoredValue<T>;
}

/** What {@link LoadCoordinator} needs. */
export interface LoadCoordinatorParts {
  keys: KeySpace;
  io: EntryIO;
  lock: DistributedLock;
  events: CacheEvents;
  tracer: CacheTracer;
  /** Longest wait for a load another call in this process runs, in milliseconds. */
  waitMs: number;
}

/** What the `cache.load` span of a load tells besides its outcome. */
export interface LoadFacts {
  /** The full key of the entry loaded (a single load). */
  entryKey?: string;
  cause?: LoadCause;
  /** Keys a batch load (`getMany`) loads. */
  keyCount?: number;
  /** The group of keys the load belongs to in logs (`EntryOptions.group`). */
  group?: LoadGroup | undefined;
}

/**
 * Makes sure a key is loaded once: once per process (single-flight), once across instances (the
 * distributed lock), and refreshed in the background at most once at a time.
 */
export class LoadCoordinator {
  readonly #parts: LoadCoordinatorParts;
  readonly #flights = new SingleFlight<LookupOutcome<unknown>>();
  readonly #refreshing = new Set<string>();
  readonly #background = new Set<Promise<unknown>>();

  constructor(parts: LoadCoordinatorParts) {
    this.#parts = parts;
  }

  /**
   * Starts (or joins) the load of a key; `joined` tells whether another caller started it. A joined
   * caller waits at most `waitMs` for it, then loads for itself.
   */
  load<T>(request: LoadRequest<T>): { promise: Promise<LookupOutcome<T>>; joined: boolean } {
    const flight = this.#flights.run(request.entryKey, () => this.#loadOnce(request));
    if (!flight.joined) return flight as { promise: Promise<LookupOutcome<T>>; joined: boolean };
    return {
      promise: this.#shareOrLoadAlone(flight.promise as Promise<LookupOutcome<T>>, request),
      joined: true,
    };
  }

  /**
   * After an invalidation, callers must not share a load that began before it (it may have read what
   * the invalidation replaced): the loads of the keys it names (`keys`), of the keys matching
   * `pattern`, or every load (`all`: a tag, whose entries-to-be no one can name) are left to those
   * already waiting on them, and later callers load anew.
   */
  detach(change: { keys?: readonly string[]; pattern?: string; all?: boolean }): void {
    if (change.all === true) {
      this.#flights.forget(() => true);
      return;
    }
    if (change.keys !== undefined && change.keys.length > 0) {
      const keys = new Set(change.keys);
      this.#flights.forget((entryKey) => keys.has(entryKey));
    }
    if (change.pattern !== undefined) {
      const matcher = compileGlob(change.pattern);
      this.#flights.forget((entryKey) => matcher.test(entryKey));
    }
  }

  /**
   * Refreshes a stale key in the background, unless this process or another instance already does. Its
   * span starts a trace of its own, linked to the lookup that found the entry stale: the caller's
   * trace shows what the caller waited for, not a refresh that may outlast it.
   */
  refreshInBackground<T>(request: LoadRequest<T>): void {
    if (this.#refreshing.has(request.entryKey)) return;
    this.#refreshing.add(request.entryKey);
    const refresh = this.#parts.tracer
      .detachedSpan('cache.refresh', request.entryKey, async (span) => {
        try {
          // The lease comes with the lock's first attempt: one round trip for both when the store can.
          const guarded = await this.#parts.lock.run(
            this.#parts.keys.lockKey(request.key),
            (held, lease) =>
              this.#loadAndStore(request, 'background-refresh', this.#parts.io.leaseOf(lease), held),
            this.#peerResult(request),
            'skip',
          );
          span.note('result', guarded.source === 'skipped' ? 'skipped' : 'ok');
        } catch (error) {
          span.note('result', 'error');
          throw error;
        }
      })
      .finally(() => this.#refreshing.delete(request.entryKey));
    this.track(refresh);
  }

  /** Keeps a background task for `drain()`; its failure is already reported by events. */
  track(task: Promise<unknown>): void {
    const settled: Promise<unknown> = task
      .catch(() => undefined)
      .finally(() => this.#background.delete(settled));
    this.#background.add(settled);
  }

  /** Waits for every background task. */
  async drain(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /**
   * Runs `load` in a `cache.load` span, and reports its duration, failure and group (see
   * `EntryOptions`) as a `load` event.
   */
  timeLoad<R>(key: string, load: () => R | Promise<R>, facts: LoadFacts = {}): Promise<R> {
    return this.#parts.tracer.span('cache.load', facts.entryKey, async (span) => {
      if (facts.cause !== undefined) span.note('cause', facts.cause);
      if (facts.keyCount !== undefined) span.note('keyCount', facts.keyCount);
      const startedAt = performance.now();
      try {
        const value = await load();
        const durationSeconds = secondsSince(startedAt);
        const event: CacheEventMap['load'][0] = { key, durationSeconds, failed: false };
        // A loader that found its stale value still current (an HTTP 304) says so.
        if (value instanceof Revalidated) event.revalidated = true;
        this.#emitLoad(event, facts.group);
        span.note('result', 'ok');
        return value;
      } catch (error) {
        this.#emitLoad({ key, durationSeconds: secondsSince(startedAt), failed: true, error }, facts.group);
        span.note('result', 'error');
        throw error;
      }
    });
  }

  #emitLoad(event: CacheEventMap['load'][0], group: LoadGroup | undefined): void {
    const named = groupOfLoad(group, event.key);
    if (named !== undefined) event.group = named;
    this.#parts.events.emit('load', event);
  }

  async #loadOnce<T>(request: LoadRequest<T>): Promise<LookupOutcome<T>> {
    if (request.lock === false) {
      const lease = request.lease === false ? Promise.resolve(this.#parts.io.noLease()) : undefined;
      return {
        value: await this.#loadAndStore(request, request.cause, lease),
        result: 'miss',
        coalesced: false,
      };
    }
    // The lease comes with the lock's first attempt: one round trip for both when the store can.
    const guarded = await this.#parts.lock.run(
      this.#parts.keys.lockKey(request.key),
      (held, lease) => this.#loadAndStore(request, request.cause, this.#parts.io.leaseOf(lease), held),
      this.#peerResult(request),
      'wait',
    );
    if (guarded.source === 'peer') {
      this.#parts.events.emit('coalesced', { key: request.key });
      const { value, createdAtMs, freshUntilMs } = guarded.stored;
      return { value, result: 'miss', createdAtMs, freshUntilMs, coalesced: true };
    }
    // 'skipped' only happens for background refreshes, which never come through here.
    const value = guarded.source === 'loaded' ? guarded.value : (undefined as T);
    return { value, result: 'miss', coalesced: false };
  }

  async #shareOrLoadAlone<T>(
    shared: Promise<LookupOutcome<T>>,
    request: LoadRequest<T>,
  ): Promise<LookupOutcome<T>> {
    const outcome = await withSoftTimeout(shared, this.#parts.waitMs);
    if (outcome !== undefined) return { ...outcome, coalesced: true };
    // The shared load is slow to finish (its client may not be reading, its source may hang). Nobody
    // waits on another's load longer than the bound: this caller loads for itself, and skips the
    // cross-instance lock, which the load it gave up on holds.
    const value = await this.#loadAndStore({ ...request, lock: false });
    return { value, result: 'miss', coalesced: false };
  }

  /** A fresh entry stored by another instance that held the lock. */
  #peerResult<T>({ entryKey, serializer }: LoadRequest<T>): PeerResult<StoredValue<T>> {
    return { entryKey, decode: (bytes) => this.#parts.io.decodeFresh<T>(entryKey, serializer, bytes) };
  }

  /**
   * Runs the loader and stores its value under the load's lease, taken before the loader reads its
   * source: a value read before an invalidation is not stored after it. `held`: the stampede lock of the
   * load, which the write may release in the same call.
   */
  async #loadAndStore<T>(
    request: LoadRequest<T>,
    cause = request.cause ?? 'miss',
    leased: LoadLease | Promise<LoadLease> = this.#parts.io.beginLease(),
    held?: HeldLock,
  ): Promise<T> {
    const lease = await leased;
    const { stale } = request;
    const context: LoadContext<T> =
      stale === undefined
        ? { cause, lease }
        : {
            cause,
            lease,
            stale: stale.value,
            revalidated: (updated?: T) => new Revalidated(updated === undefined ? stale.value : updated),
          };
    const loaded: T | Revalidated<T> = await this.timeLoad(
      request.key,
      () => request.loader(request.key, context),
      { entryKey: request.entryKey, cause, group: request.options.group },
    );
    const options = { ...request.options, lease };
    if (loaded instanceof Revalidated) {
      const { value } = loaded;
      if (stale === undefined) await this.#parts.io.write(request.entryKey, value, options);
      else {
        const renewed = await this.#parts.io.renew(request.entryKey, stale, value, options);
        if (renewed) this.#parts.events.emit('revalidated', { key: request.key });
      }
      return value;
    }
    await this.#parts.io.write(request.entryKey, loaded, options, held);
    return loaded;
  }
}

function secondsSince(startedAtMs: number): number {
  return (performance.now() - startedAtMs) / 1000;
}

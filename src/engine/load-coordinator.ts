import type { CacheEvents } from '../events.js';
import type { Serializer } from '../serialization/serializer.js';
import type { DistributedLock, PeerResult } from './distributed-lock.js';
import type { StoredValue } from './entry-codec.js';
import type { EntryIO } from './entry-io.js';
import type { EntryOptions, LoadCause, Loader, LookupOutcome } from './entry-options.js';
import type { KeySpace } from './key-space.js';
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
  /** Why the load runs, as told to the loader. Default `'miss'`. */
  cause?: LoadCause;
  /** With cause `stale-fallback`: the stale value, as told to the loader. */
  stale?: T;
}

/** What {@link LoadCoordinator} needs. */
export interface LoadCoordinatorParts {
  keys: KeySpace;
  io: EntryIO;
  lock: DistributedLock;
  events: CacheEvents;
  /** Longest wait for a load another call in this process runs, in milliseconds. */
  waitMs: number;
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

  /** Refreshes a stale key in the background, unless this process or another instance already does. */
  refreshInBackground<T>(request: LoadRequest<T>): void {
    if (this.#refreshing.has(request.entryKey)) return;
    this.#refreshing.add(request.entryKey);
    const refresh = this.#parts.lock
      .run(
        this.#parts.keys.lockKey(request.key),
        () => this.#loadAndStore(request, 'background-refresh'),
        this.#peerResult(request),
        'skip',
      )
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

  /** Runs `load` and reports its duration and failure as a `load` event. */
  async timeLoad<R>(key: string, load: () => R | Promise<R>): Promise<R> {
    const startedAt = performance.now();
    try {
      const value = await load();
      this.#parts.events.emit('load', { key, durationSeconds: secondsSince(startedAt), failed: false });
      return value;
    } catch (error) {
      this.#parts.events.emit('load', { key, durationSeconds: secondsSince(startedAt), failed: true, error });
      throw error;
    }
  }

  async #loadOnce<T>(request: LoadRequest<T>): Promise<LookupOutcome<T>> {
    if (request.lock === false) {
      return { value: await this.#loadAndStore(request), result: 'miss', coalesced: false };
    }
    const guarded = await this.#parts.lock.run(
      this.#parts.keys.lockKey(request.key),
      () => this.#loadAndStore(request),
      this.#peerResult(request),
      'wait',
    );
    if (guarded.source === 'peer') {
      this.#parts.events.emit('coalesced', { key: request.key });
      const { value, createdAtMs } = guarded.stored;
      return { value, result: 'miss', createdAtMs, coalesced: true };
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

  async #loadAndStore<T>(request: LoadRequest<T>, cause = request.cause ?? 'miss'): Promise<T> {
    const context = cause === 'stale-fallback' ? { cause, stale: request.stale as T } : { cause };
    const value = await this.timeLoad(request.key, () => request.loader(request.key, context));
    await this.#parts.io.write(request.entryKey, value, request.options);
    return value;
  }
}

function secondsSince(startedAtMs: number): number {
  return (performance.now() - startedAtMs) / 1000;
}

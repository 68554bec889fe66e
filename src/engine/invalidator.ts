import { randomUUID } from 'node:crypto';
import { CacheError } from '../errors.js';
import type { CacheEvents, CacheMode, InvalidationKind, StoreOperation } from '../events.js';
import type { CacheStore } from '../store/cache-store.js';
import type { BusMessage, InvalidationBus, InvalidationMessage } from '../store/invalidation-bus.js';
import type { CacheBackend } from './cache-backend.js';
import type { ModeSwitch } from './cache-mode.js';
import type { InvalidateOptions } from './invalidate-options.js';
import type { InvalidationQueue } from './invalidation-queue.js';
import type { LoadCoordinator } from './load-coordinator.js';
import type { MemoryTier } from './memory-tier.js';
import { withSoftTimeout } from './soft-timeout.js';

/** What {@link Invalidator} needs. */
export interface InvalidatorParts {
  store: CacheBackend;
  memory: MemoryTier | undefined;
  /** Loads under way, which must not be shared past an invalidation they crossed. */
  loads: Pick<LoadCoordinator, 'detach'>;
  bus: InvalidationBus | undefined;
  /** The mode of this instance, which mode switches from the bus change. */
  modes: Pick<ModeSwitch, 'apply'>;
  events: CacheEvents;
  /** Longest wait for an announcement to be published, in milliseconds (the cache's Redis timeout). */
  publishTimeoutMs: number;
  /** Where invalidations that could not reach the store wait to be replayed; none: they are lost. */
  queue?: InvalidationQueue | undefined;
  /** The same entry key in this cache's version (see `KeySpace.inOwnVersion`). Default: unchanged. */
  inOwnVersion?: (entryKey: string) => string;
}

/** One deletion, described so that it can run now and, queued, again later. */
interface Deletion<R> {
  kind: InvalidationKind;
  operation: StoreOperation;
  /** Deletions with the same id remove the same entries. */
  id: string;
  remove(store: CacheStore): Promise<R>;
  /** Once the store removed it: drops this process's copies again and announces it; resolves to the count. */
  settle(removed: R): Promise<number>;
  /** The store failed, and keeps its copies until the replay: those of this process go now. */
  dropOnFailure(): void;
}

const QUEUED_NOTE = 'queued: it will be replayed once Redis answers again';
const OVERFLOW_NOTE = 'not queued: the invalidation queue is full (invalidationQueue.maxSize)';

/** The store's `E_INVALIDATION_FAILED`, its message saying what became of the invalidation. */
function withNote(error: unknown, note: string): unknown {
  if (!(error instanceof CacheError)) return error;
  return new CacheError(error.code, `${error.message}; ${note}`, { cause: error.cause });
}

/**
 * Removes entries everywhere they live: in the store (with retries; when it cannot, queued for replay
 * and reported), in this process's memory tier, and, through the bus, in every other instance's
 * memory tier. Loads under way that the invalidation crossed are no longer shared, here and on every
 * other instance.
 * The bus also carries mode switches (`setMode` with `everywhere`), which this instance applies.
 */
export class Invalidator {
  /** Id of this instance on the bus, so it can ignore its own announcements. */
  readonly instanceId = randomUUID();
  readonly #parts: InvalidatorParts;

  constructor(parts: InvalidatorParts) {
    this.#parts = parts;
  }

  /** Invalidations waiting to be replayed. */
  get queued(): number {
    return this.#parts.queue?.size ?? 0;
  }

  /** Starts listening to other instances' invalidations. */
  async listen(): Promise<void> {
    await this.#parts.bus?.subscribe(
      (message) => this.#apply(message),
      () => this.#resync(),
    );
  }

  /** Deletes one entry; resolves to whether it existed, or to `'queued'` (see {@link InvalidateOptions}). */
  async deleteKey(entryKey: string, options: InvalidateOptions = {}): Promise<boolean | 'queued'> {
    const change = { keys: [entryKey] };
    this.dropLocal(change);
    const deleted = await this.#run(
      {
        kind: 'key',
        operation: 'delete',
        id: `key ${entryKey}`,
        remove: (store) => store.delete([entryKey]),
        settle: async (deleted) => {
          // Again: a read that began after the first drop may have found the entry before its deletion.
          this.dropLocal(change);
          await this.announce(change);
          return deleted;
        },
        dropOnFailure: () => this.dropLocal(change),
      },
      options,
    );
    return deleted === 'queued' ? deleted : deleted > 0;
  }

  /**
   * Deletes the entry in every version: `entryKey` (this version's) and those `indexKey` lists (see
   * `KeySpace.versionIndexKey`). Deleting the index stamps it, and every versioned write of the key
   * joins it, so a load of the key under way in any version cannot store its value afterwards.
   */
  async deleteKeyInEveryVersion(
    entryKey: string,
    indexKey: string,
    options: InvalidateOptions = {},
  ): Promise<boolean | 'queued'> {
    this.dropLocal({ keys: [entryKey] });
    const deleted = await this.#run(
      {
        kind: 'key',
        operation: 'delete',
        id: `key in every version ${entryKey}`,
        remove: async (store) => {
          const listed = await store.deleteTagged([indexKey]);
          // Stamped as `invalidate` always stamps it, and deleted should the index have lost it.
          const own = await store.delete([entryKey]);
          return { keys: listed.keys, deleted: listed.deleted + own };
        },
        settle: async ({ keys, deleted }) => {
          const dropped = keys.includes(entryKey) ? keys : [entryKey, ...keys];
          this.dropLocal({ keys: dropped });
          await this.announce({ keys: dropped, allVersions: true });
          return deleted;
        },
        dropOnFailure: () => this.dropLocal({ keys: [entryKey] }),
      },
      options,
    );
    return deleted === 'queued' ? deleted : deleted > 0;
  }

  async deleteTagged(
    tagKeys: readonly string[],
    options: InvalidateOptions = {},
  ): Promise<number | 'queued'> {
    this.#parts.loads.detach({ all: true });
    return this.#run(
      {
        kind: 'tag',
        operation: 'delete_tagged',
        id: `tag ${JSON.stringify([...tagKeys].sort())}`,
        remove: (store) => store.deleteTagged(tagKeys),
        settle: async ({ keys, deleted }) => {
          this.#parts.memory?.delete(keys);
          await this.announce({ keys, tagged: true });
          return deleted;
        },
        // Which entries the tags list, only Redis knows: every copy here may be one of them.
        dropOnFailure: () => {
          this.#parts.loads.detach({ all: true });
          this.#parts.memory?.clear();
        },
      },
      options,
    );
  }

  /** Deletes the keys matching `pattern`, sparing those that start with `exceptPrefix` (locks, tag sets). */
  async deleteMatching(
    pattern: string,
    exceptPrefix: string | undefined,
    options: InvalidateOptions = {},
  ): Promise<number | 'queued'> {
    const change = { pattern };
    this.dropLocal(change);
    return this.#run(
      {
        kind: 'pattern',
        operation: 'delete_matching',
        id: `pattern ${pattern}`,
        remove: (store) => store.deleteMatching(pattern, exceptPrefix),
        settle: async (deleted) => {
          // Again: a read that began after the first drop may have found an entry before its deletion.
          this.dropLocal(change);
          await this.announce(change);
          return deleted;
        },
        dropOnFailure: () => this.dropLocal(change),
      },
      options,
    );
  }

  /**
   * Runs a deletion in the store (with retries). When the store cannot do it, this process drops its
   * copies at once and the deletion is queued for replay; the call rejects with `E_INVALIDATION_FAILED`
   * saying whether it was queued, or, queued with `queueOnFailure`, resolves to `'queued'`.
   */
  async #run<R>(deletion: Deletion<R>, options: InvalidateOptions): Promise<number | 'queued'> {
    const queue = this.#parts.queue;
    let removed: R;
    try {
      removed = await this.#parts.store.invalidate(deletion.operation, (store) => deletion.remove(store));
    } catch (error) {
      this.#parts.events.emit('invalidation-failed', { kind: deletion.kind, error });
      const queued = queue?.enqueue({
        id: deletion.id,
        kind: deletion.kind,
        replay: () => this.#replay(deletion),
      });
      // In the same step as queueing: no read can find the store open in between.
      deletion.dropOnFailure();
      if (queued === true && options.queueOnFailure === true) return 'queued';
      throw queued === undefined ? error : withNote(error, queued ? QUEUED_NOTE : OVERFLOW_NOTE);
    }
    const count = await deletion.settle(removed);
    this.#parts.events.emit('invalidation', { kind: deletion.kind, count });
    // The store answers again: what still waits need not wait for the timer.
    if (queue?.pending === true) void queue.replay();
    return count;
  }

  /** One more try of a queued deletion, without retries: the queue tries again on its timer. */
  async #replay<R>(deletion: Deletion<R>): Promise<void> {
    const removed = await this.#parts.store.command(deletion.operation, (store) => deletion.remove(store));
    await deletion.settle(removed);
  }

  /**
   * Tells the other instances to drop their in-process copies and stop sharing loads that the change
   * crossed. A lost announcement is reported, not thrown: those copies then live at most the memory
   * tier's own lifetime. Publishing waits no longer than the cache's Redis timeout.
   */
  async announce(change: Omit<InvalidationMessage, 'origin'>): Promise<void> {
    const bus = this.#parts.bus;
    if (bus === undefined || (change.keys !== undefined && change.keys.length === 0 && !change.tagged))
      return;
    try {
      await this.#publish(bus, { origin: this.instanceId, ...change });
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'publish', error });
    }
  }

  /**
   * Tells every instance, this one included, to switch to `mode`; they apply switches in the order the
   * bus delivers them, so that two made at once leave every instance in the same mode. Unlike an
   * invalidation, a switch that could not be published rejects: the operator must know that only
   * this instance switched. Without a bus (a custom store), there is no other instance to tell.
   */
  async announceMode(mode: CacheMode): Promise<void> {
    const bus = this.#parts.bus;
    if (bus === undefined) return;
    try {
      await this.#publish(bus, { origin: this.instanceId, mode });
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'publish', error });
      const code = error instanceof CacheError ? error.code : 'E_STORE_FAILED';
      throw new CacheError(
        code,
        `setMode: switched to '${mode}' here, but the switch could not be announced to the other instances`,
        { cause: error },
      );
    }
  }

  /** Publishes `message`, waiting no longer than the cache's Redis timeout; throws when it failed. */
  async #publish(bus: InvalidationBus, message: BusMessage): Promise<void> {
    const timeoutMs = this.#parts.publishTimeoutMs;
    const published = bus.publish(message).then(() => true);
    if ((await withSoftTimeout(published, timeoutMs)) === undefined) {
      // A client that queues commands while disconnected would otherwise hold the message.
      published.catch(() => undefined);
      throw new CacheError('E_STORE_TIMEOUT', `publish took longer than ${timeoutMs} ms`);
    }
  }

  /** Stops listening, and stops replaying what still waits in the queue. */
  async close(): Promise<void> {
    await this.#parts.queue?.close();
    await this.#parts.bus?.close();
  }

  /**
   * Announcements may have been lost while the subscription was down: every copy in memory is suspect,
   * and so is every load under way, since an invalidation they crossed may have gone unheard.
   */
  #resync(): void {
    this.#parts.loads.detach({ all: true });
    this.#parts.memory?.clear();
  }

  #apply(message: BusMessage): void {
    if ('mode' in message) {
      // This instance's own switches too: all instances then apply every switch in the same order.
      this.#parts.modes.apply(message.mode, message.origin !== this.instanceId);
      return;
    }
    if (message.origin === this.instanceId) return;
    if (message.tagged === true) this.#parts.loads.detach({ all: true });
    const { pattern } = message;
    const inOwnVersion = this.#parts.inOwnVersion;
    // A key invalidated in every version: this instance's copy is the key in its own version.
    const keys =
      message.allVersions === true && inOwnVersion !== undefined
        ? message.keys?.map(inOwnVersion)
        : message.keys;
    this.dropLocal(pattern === undefined ? { keys } : { pattern });
  }

  /** Drops this process's copies of what a change names, and stops sharing loads it crossed. */
  dropLocal(change: { keys?: readonly string[] | undefined; pattern?: string }): void {
    const named = (change.keys?.length ?? 0) > 0 || change.pattern !== undefined;
    if (!named) return;
    this.#parts.loads.detach(change.pattern === undefined ? { keys: change.keys ?? [] } : change);
    if (change.keys !== undefined) this.#parts.memory?.delete(change.keys);
    if (change.pattern !== undefined) this.#parts.memory?.deleteMatching(change.pattern);
  }
}

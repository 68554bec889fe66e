import { randomUUID } from 'node:crypto';
import { CacheError } from '../errors.js';
import type { CacheEvents, InvalidationKind, StoreOperation } from '../events.js';
import type { CacheStore } from '../store/cache-store.js';
import type { InvalidationBus, InvalidationMessage } from '../store/invalidation-bus.js';
import type { CacheBackend } from './cache-backend.js';
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
  events: CacheEvents;
  /** Longest wait for an announcement to be published, in milliseconds (the cache's Redis timeout). */
  publishTimeoutMs: number;
}

/**
 * Removes entries everywhere they live: in the store (with retries, rejecting when it cannot),
 * in this process's memory tier, and, through the bus, in every other instance's memory tier. Loads
 * under way that the invalidation crossed are no longer shared, here and on every other instance.
 */
export class Invalidator {
  /** Id of this instance on the bus, so it can ignore its own announcements. */
  readonly instanceId = randomUUID();
  readonly #parts: InvalidatorParts;

  constructor(parts: InvalidatorParts) {
    this.#parts = parts;
  }

  /** Starts listening to other instances' invalidations. */
  async listen(): Promise<void> {
    await this.#parts.bus?.subscribe(
      (message) => this.#apply(message),
      () => this.#resync(),
    );
  }

  async deleteKey(entryKey: string): Promise<boolean> {
    this.dropLocal({ keys: [entryKey] });
    const deleted = await this.#invalidate('key', 'delete', (store) => store.delete([entryKey]));
    // Again: a read that began after the first drop may have found the entry before its deletion.
    this.dropLocal({ keys: [entryKey] });
    await this.announce({ keys: [entryKey] });
    this.#parts.events.emit('invalidation', { kind: 'key', count: deleted });
    return deleted > 0;
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<number> {
    this.#parts.loads.detach({ all: true });
    const { keys, deleted } = await this.#invalidate('tag', 'delete_tagged', (store) =>
      store.deleteTagged(tagKeys),
    );
    this.#parts.memory?.delete(keys);
    await this.announce({ keys, tagged: true });
    this.#parts.events.emit('invalidation', { kind: 'tag', count: deleted });
    return deleted;
  }

  /** Deletes the keys matching `pattern`, sparing those that start with `exceptPrefix` (locks, tag sets). */
  async deleteMatching(pattern: string, exceptPrefix: string): Promise<number> {
    this.dropLocal({ pattern });
    const deleted = await this.#invalidate('pattern', 'delete_matching', (store) =>
      store.deleteMatching(pattern, exceptPrefix),
    );
    // Again: a read that began after the first drop may have found an entry before its deletion.
    this.dropLocal({ pattern });
    await this.announce({ pattern });
    this.#parts.events.emit('invalidation', { kind: 'pattern', count: deleted });
    return deleted;
  }

  /** Runs the store's part of an invalidation; one that fails after its retries is reported, then thrown. */
  async #invalidate<T>(
    kind: InvalidationKind,
    operation: StoreOperation,
    task: (store: CacheStore) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.#parts.store.invalidate(operation, task);
    } catch (error) {
      this.#parts.events.emit('invalidation-failed', { kind, error });
      throw error;
    }
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
    const timeoutMs = this.#parts.publishTimeoutMs;
    try {
      const published = bus.publish({ origin: this.instanceId, ...change }).then(() => true);
      if ((await withSoftTimeout(published, timeoutMs)) === undefined) {
        // A client that queues commands while disconnected would otherwise hold the invalidation.
        published.catch(() => undefined);
        throw new CacheError('E_STORE_TIMEOUT', `publish took longer than ${timeoutMs} ms`);
      }
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'publish', error });
    }
  }

  async close(): Promise<void> {
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

  #apply(message: InvalidationMessage): void {
    if (message.origin === this.instanceId) return;
    if (message.tagged === true) this.#parts.loads.detach({ all: true });
    const { keys, pattern } = message;
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

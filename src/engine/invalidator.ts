import { randomUUID } from 'node:crypto';
import { CacheError } from '../errors.js';
import type { CacheEvents, CacheMode } from '../events.js';
import type { BusMessage, InvalidationBus, InvalidationMessage } from '../store/invalidation-bus.js';
import type { CacheBackend } from './cache-backend.js';
import type { ModeSwitch } from './cache-mode.js';
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
}

/**
 * Removes entries everywhere they live: in the store (with retries, rejecting when it cannot),
 * in this process's memory tier, and, through the bus, in every other instance's memory tier. Loads
 * under way that the invalidation crossed are no longer shared, here and on every other instance.
 * The bus also carries mode switches (`setMode` with `everywhere`), which this instance applies.
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
    const deleted = await this.#parts.store.invalidate('delete', (store) => store.delete([entryKey]));
    // Again: a read that began after the first drop may have found the entry before its deletion.
    this.dropLocal({ keys: [entryKey] });
    await this.announce({ keys: [entryKey] });
    this.#parts.events.emit('invalidation', { kind: 'key', count: deleted });
    return deleted > 0;
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<number> {
    this.#parts.loads.detach({ all: true });
    const { keys, deleted } = await this.#parts.store.invalidate('delete_tagged', (store) =>
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
    const deleted = await this.#parts.store.invalidate('delete_matching', (store) =>
      store.deleteMatching(pattern, exceptPrefix),
    );
    // Again: a read that began after the first drop may have found an entry before its deletion.
    this.dropLocal({ pattern });
    await this.announce({ pattern });
    this.#parts.events.emit('invalidation', { kind: 'pattern', count: deleted });
    return deleted;
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

  #apply(message: BusMessage): void {
    if ('mode' in message) {
      // This instance's own switches too: all instances then apply every switch in the same order.
      this.#parts.modes.apply(message.mode, message.origin !== this.instanceId);
      return;
    }
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

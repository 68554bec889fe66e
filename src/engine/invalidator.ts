import { randomUUID } from 'node:crypto';
import type { CacheEvents } from '../events.js';
import type { InvalidationBus, InvalidationMessage } from '../store/invalidation-bus.js';
import type { ResilientStore } from '../store/resilient-store.js';
import type { MemoryTier } from './memory-tier.js';

/** What {@link Invalidator} needs. */
export interface InvalidatorParts {
  store: ResilientStore;
  memory: MemoryTier | undefined;
  bus: InvalidationBus | undefined;
  events: CacheEvents;
}

/**
 * Removes entries everywhere they live: in the store (with retries, rejecting when it cannot),
 * in this process's memory tier, and, through the bus, in every other instance's memory tier.
 */
export class Invalidator {
  /** Id of this instance on the bus, so it can ignore its own announcements. */
  readonly instanceId = randomUUID();
  readonly #parts: InvalidatorParts;

  constructor(parts: InvalidatorParts) {
    this.#parts = parts;
  }

  /** Starts listening to other instances' invalidations (only needed with a memory tier). */
  async listen(): Promise<void> {
    await this.#parts.bus?.subscribe((message) => this.#apply(message));
  }

  async deleteKey(entryKey: string): Promise<boolean> {
    this.#parts.memory?.delete([entryKey]);
    const deleted = await this.#parts.store.invalidate('delete', (store) => store.delete([entryKey]));
    await this.announce({ keys: [entryKey] });
    this.#parts.events.emit('invalidation', { kind: 'key', count: deleted });
    return deleted > 0;
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<number> {
    const { keys, deleted } = await this.#parts.store.invalidate('delete_tagged', (store) =>
      store.deleteTagged(tagKeys),
    );
    this.#parts.memory?.delete(keys);
    await this.announce({ keys });
    this.#parts.events.emit('invalidation', { kind: 'tag', count: deleted });
    return deleted;
  }

  /** Deletes the keys matching `pattern`, sparing those that start with `exceptPrefix` (locks, tag sets). */
  async deleteMatching(pattern: string, exceptPrefix: string): Promise<number> {
    this.#parts.memory?.deleteMatching(pattern);
    const deleted = await this.#parts.store.invalidate('delete_matching', (store) =>
      store.deleteMatching(pattern, exceptPrefix),
    );
    await this.announce({ pattern });
    this.#parts.events.emit('invalidation', { kind: 'pattern', count: deleted });
    return deleted;
  }

  /**
   * Tells the other instances to drop their in-process copies. A lost announcement is reported,
   * not thrown: those copies then live at most the memory tier's own lifetime.
   */
  async announce(change: Omit<InvalidationMessage, 'origin'>): Promise<void> {
    const bus = this.#parts.bus;
    if (bus === undefined || (change.keys !== undefined && change.keys.length === 0)) return;
    try {
      await bus.publish({ origin: this.instanceId, ...change });
    } catch (error) {
      this.#parts.events.emit('failure', { operation: 'publish', error });
    }
  }

  async close(): Promise<void> {
    await this.#parts.bus?.close();
  }

  #apply(message: InvalidationMessage): void {
    if (message.origin === this.instanceId) return;
    if (message.keys !== undefined) this.#parts.memory?.delete(message.keys);
    if (message.pattern !== undefined) this.#parts.memory?.deleteMatching(message.pattern);
  }
}

import type { CacheEvents, InvalidationDropReason, InvalidationKind } from '../events.js';

/** Bounds and pace of the queue of invalidations that wait for Redis. */
export interface InvalidationQueueConfig {
  /** Most invalidations held; one more is not queued (and is reported as an overflow). */
  maxSize: number;
  /** Longest an invalidation waits, in milliseconds; an older one is given up (and reported). */
  maxAgeMs: number;
  /** Pause between two replay attempts while the store still fails, in milliseconds. */
  replayIntervalMs: number;
}

/** An invalidation that could not reach the store, to run again once the store answers. */
export interface QueuedInvalidation {
  /** Invalidations with the same id remove the same entries: queued again, one moves to the end. */
  readonly id: string;
  readonly kind: InvalidationKind;
  /** Runs it once more (the store, its stamps, the announcement); rejects while the store fails. */
  replay(): Promise<void>;
}

interface Waiting {
  readonly invalidation: QueuedInvalidation;
  readonly queuedAtMs: number;
}

/**
 * Invalidations that failed, in the order they failed, replayed in that order once the store answers
 * again: a timer tries the oldest every `replayIntervalMs` (the try is the probe), and a failure keeps
 * it and everything after it for the next try. Bounded by size and by age; what it gives up is
 * reported as an `invalidation-dropped` event. While anything waits ({@link pending}) the cache must
 * not serve what Redis holds: an entry there may be one of those the queue has yet to remove.
 */
export class InvalidationQueue {
  readonly #config: InvalidationQueueConfig;
  readonly #events: CacheEvents;
  /** Insertion order is replay order: a Map keeps it, and finds a repeated id at once. */
  readonly #waiting = new Map<string, Waiting>();
  #timer: NodeJS.Timeout | undefined;
  #replaying: Promise<void> | undefined;
  #closed = false;

  constructor(config: InvalidationQueueConfig, events: CacheEvents) {
    this.#config = config;
    this.#events = events;
  }

  /** Invalidations waiting to be replayed. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Whether any invalidation waits: until none does, Redis may hold entries that are invalid. */
  get pending(): boolean {
    return this.#waiting.size > 0;
  }

  /**
   * Queues `invalidation` behind those already waiting; one with the same id already waiting moves to
   * the end. False when the queue is full: then it is not queued, and reported as an overflow.
   */
  enqueue(invalidation: QueuedInvalidation): boolean {
    const now = Date.now();
    this.#dropExpired(now);
    if (!this.#waiting.delete(invalidation.id) && this.#waiting.size >= this.#config.maxSize) {
      this.#drop(invalidation, 'overflow');
      return false;
    }
    this.#waiting.set(invalidation.id, { invalidation, queuedAtMs: now });
    this.#events.emit('invalidation-queued', { kind: invalidation.kind, queueSize: this.#waiting.size });
    this.#schedule();
    return true;
  }

  /**
   * Replays the waiting invalidations in order, now, until one fails (it and those after it wait for
   * the next try) or none is left. One replay runs at a time: a call during one joins it. Never rejects.
   */
  replay(): Promise<void> {
    this.#replaying ??= this.#replayInOrder().finally(() => {
      this.#replaying = undefined;
    });
    return this.#replaying;
  }

  /** Stops the timer and waits for a replay under way; what still waits is never replayed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#replaying;
  }

  async #replayInOrder(): Promise<void> {
    for (;;) {
      this.#dropExpired(Date.now());
      const oldest = this.#waiting.values().next().value;
      if (oldest === undefined) return;
      try {
        await oldest.invalidation.replay();
      } catch {
        // The store's failure is already reported as a `failure` event; the next try comes on the timer.
        return;
      }
      // Queued again while it ran: the newer one still waits, as it may have crossed loads this run did not.
      if (this.#waiting.get(oldest.invalidation.id) === oldest) this.#waiting.delete(oldest.invalidation.id);
      this.#events.emit('invalidation-replayed', {
        kind: oldest.invalidation.kind,
        queueSize: this.#waiting.size,
      });
    }
  }

  /** Tries a replay `replayIntervalMs` from now, and again after each try that leaves something waiting. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.replay().then(() => {
        this.#timer = undefined;
        if (this.pending) this.#schedule();
      });
    }, this.#config.replayIntervalMs);
    // A cache left unclosed must not keep its process alive for a Redis that never comes back.
    this.#timer.unref();
  }

  /** Gives up the invalidations older than `maxAgeMs`, which wait at the front (queue order is age order). */
  #dropExpired(now: number): void {
    for (const waiting of this.#waiting.values()) {
      if (now - waiting.queuedAtMs <= this.#config.maxAgeMs) return;
      this.#waiting.delete(waiting.invalidation.id);
      this.#drop(waiting.invalidation, 'age');
    }
  }

  #drop(invalidation: QueuedInvalidation, reason: InvalidationDropReason): void {
    this.#events.emit('invalidation-dropped', {
      kind: invalidation.kind,
      reason,
      queueSize: this.#waiting.size,
    });
  }
}

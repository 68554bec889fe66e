import { type BusMessage, type InvalidationBus, parseInvalidationMessage } from './invalidation-bus.js';

/** The subscriber connection: a `duplicate()` of the cache's node-redis client. */
export interface RedisSubscriberLike {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready' | 'reconnecting', listener: () => void): unknown;
  destroy?(): unknown;
  disconnect?(): Promise<unknown>;
  /** node-redis: the connection no longer keeps the process alive (absent on cluster clients). */
  unref?(): unknown;
}

/** What the bus needs of the cache's node-redis client. */
export interface RedisPublisherLike {
  publish(channel: string, message: string): Promise<number>;
  duplicate(): RedisSubscriberLike;
}

/** True when `value` can publish and be duplicated into a subscriber. */
export function isRedisPublisherLike(value: unknown): value is RedisPublisherLike {
  const candidate = value as Partial<RedisPublisherLike> | null;
  return typeof candidate?.publish === 'function' && typeof candidate.duplicate === 'function';
}

/**
 * Invalidations (and mode switches) over Redis pub/sub: PUBLISH on the cache's client, SUBSCRIBE on a duplicate of it
 * (a subscribed connection can run no other command). PUBLISH reaches every node of a Cluster.
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly #publisher: RedisPublisherLike;
  readonly #channel: string;
  readonly #onError: (error: unknown) => void;
  #subscriber: RedisSubscriberLike | undefined;

  constructor(publisher: RedisPublisherLike, channel: string, onError: (error: unknown) => void) {
    this.#publisher = publisher;
    this.#channel = channel;
    this.#onError = onError;
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#publisher.publish(this.#channel, JSON.stringify(message));
  }

  async subscribe(handler: (message: BusMessage) => void, onGap?: () => void): Promise<void> {
    const subscriber = this.#publisher.duplicate();
    this.#subscriber = subscriber;
    subscriber.on('error', this.#onError);
    if (onGap !== undefined) watchForGaps(subscriber, onGap, () => this.#subscriber === subscriber);
    // Every cache listens, so a script that uses one and closes its own client must still be able to
    // exit: whether the process lives on is the application's client's business, not ours.
    subscriber.unref?.();
    await subscriber.connect();
    await subscriber.subscribe(this.#channel, (text) => {
      const message = parseInvalidationMessage(text);
      if (message !== undefined) handler(message);
    });
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber === undefined) return;
    if (typeof subscriber.destroy === 'function') subscriber.destroy();
    else await subscriber.disconnect?.();
  }
}

/**
 * Calls `onGap` when the subscriber's connection is lost (node-redis then says `reconnecting`: what is
 * announced from then on is lost to it) and again when it is ready after that, which node-redis is
 * once it has subscribed again by itself. The first `ready` is the initial connection, no gap.
 */
function watchForGaps(subscriber: RedisSubscriberLike, onGap: () => void, current: () => boolean): void {
  let connectedBefore = false;
  subscriber.on('ready', () => {
    if (connectedBefore && current()) onGap();
    connectedBefore = true;
  });
  subscriber.on('reconnecting', () => {
    if (connectedBefore && current()) onGap();
  });
}

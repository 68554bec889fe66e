import { createClient } from 'redis';
import type { HeardAnnouncement } from './soak-records.js';

const CONNECT_TIMEOUT_MS = 1000;
// As the apps' clients do: while Redis is down or restarting, retry soon, and at least twice a second.
const MAX_RECONNECT_DELAY_MS = 500;

/**
 * The driver's own ear on the invalidation channel: a third process besides the two instances, so
 * what it hears is what any other instance would hear, and when. It uses a connection of its own
 * (a subscribed connection can run no other command) and a plain node-redis client rather than the
 * cache's, so that the instrument does not share the code under test. It must outlive every Redis
 * crash and stall of the run: node-redis reconnects, and subscribes again once connected.
 */
export class AnnouncementListener {
  readonly heard: HeardAnnouncement[] = [];
  readonly #client: SubscriberClient;
  /** Messages on the channel that were not announcements: none unless the format changed. */
  unreadable = 0;
  /** Connection errors of the subscriber (each Redis crash or stall gives a few). */
  connectionErrors = 0;
  reconnections = 0;

  private constructor(client: SubscriberClient) {
    this.#client = client;
  }

  /** Connects to `redisUrl` and subscribes to `channel`; every message is timed as it arrives. */
  static async start(redisUrl: string, channel: string): Promise<AnnouncementListener> {
    const client = subscriberClient(redisUrl);
    const listener = new AnnouncementListener(client);
    // Without an error listener node-redis would crash the driver at the first Redis outage.
    client.on('error', () => {
      listener.connectionErrors += 1;
    });
    client.on('reconnecting', () => {
      listener.reconnections += 1;
    });
    await client.connect();
    await client.subscribe(channel, (text) => listener.#hear(text, Date.now()));
    return listener;
  }

  stop(): void {
    this.#client.destroy();
  }

  #hear(text: string, receivedAtMs: number): void {
    const announcement = announcementIn(text, receivedAtMs);
    if (announcement === undefined) this.unreadable += 1;
    else this.heard.push(announcement);
  }
}

type SubscriberClient = ReturnType<typeof subscriberClient>;

function subscriberClient(redisUrl: string) {
  return createClient({
    url: redisUrl,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
}

/** `{origin, keys?, pattern?, tagged?}` as the cache publishes it; `undefined` for anything else. */
function announcementIn(text: string, receivedAtMs: number): HeardAnnouncement | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { origin, keys, pattern, tagged } = message as Record<string, unknown>;
  if (typeof origin !== 'string') return undefined;
  const announcement: HeardAnnouncement = { receivedAtMs, origin };
  if (Array.isArray(keys)) announcement.keys = keys.filter((key): key is string => typeof key === 'string');
  if (typeof pattern === 'string') announcement.pattern = pattern;
  if (tagged === true) announcement.tagged = true;
  return announcement;
}

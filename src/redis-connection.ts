import type { ConnectionOptions } from 'node:tls';
import { createClient, type RedisClientOptions } from 'redis';
import { CacheOptionError } from './errors.js';

/** Where and how to connect to Redis; the TypeScript side of the seed's `CacheConfig`. */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL; other fields override its parts. */
  url?: string;
  /** Default `'127.0.0.1'` when no `url` is given. */
  host?: string;
  /** Default 6379 when no `url` is given. */
  port?: number;
  /** Database number. Default 0. */
  db?: number;
  username?: string;
  password?: string;
  /** `true` for TLS with default settings, or Node's TLS options. Default false (unless the URL is `rediss://`). */
  tls?: boolean | ConnectionOptions;
  /** Longest wait for a connection, in milliseconds. Default 2000. */
  connectTimeoutMs?: number;
  /** Idle socket timeout, in milliseconds; 0 for none. Default 0. */
  socketTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in milliseconds. Default 2000. */
  maxReconnectDelayMs?: number;
}

/** A node-redis client as `createRedisClient` makes it. */
export type RedisConnection = ReturnType<typeof createClient>;

/**
 * Builds (without connecting) a node-redis client tuned for a cache: commands fail at once while
 * disconnected instead of queueing, and reconnection backs off exponentially forever.
 */
export function createRedisClient(options: RedisConnectionOptions = {}): RedisConnection {
  return createClient(toClientOptions(options));
}

/** Builds a client with {@link createRedisClient} and waits until it is connected. */
export async function connectRedis(options: RedisConnectionOptions = {}): Promise<RedisConnection> {
  return createRedisClient(options).connect();
}

/** Translates {@link RedisConnectionOptions} into node-redis client options; throws `TypeError` for bad input. */
export function toClientOptions(options: RedisConnectionOptions): RedisClientOptions {
  const { url, host, port, db, username, password, tls } = options;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new CacheOptionError(`\`port\` must be an integer from 1 to 65535, got ${String(port)}`);
  }
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    throw new CacheOptionError(`\`db\` must be a whole number of at least 0, got ${String(db)}`);
  }
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    throw new CacheOptionError(`\`url\` must start with redis:// or rediss://, got ${url}`);
  }
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2000;
  const socket = {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    socketTimeout: options.socketTimeoutMs ?? 0,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, maxReconnectDelayMs),
    ...(url === undefined ? { host: host ?? '127.0.0.1', port: port ?? 6379 } : {}),
    ...(url !== undefined && host !== undefined ? { host } : {}),
    ...(url !== undefined && port !== undefined ? { port } : {}),
    ...(tls === true ? { tls: true as const } : {}),
    ...(typeof tls === 'object' ? { tls: true as const, ...tls } : {}),
  };
  return {
    ...(url !== undefined ? { url } : {}),
    ...(db !== undefined ? { database: db } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    // A cache must not queue commands behind a dead connection: fail fast and serve from the loader.
    disableOfflineQueue: true,
    socket,
  } as RedisClientOptions;
}

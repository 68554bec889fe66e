import { createClient } from 'redis';
import type { RedisClientLike } from '../../src/store/redis-client-like.js';
import type { RedisPublisherLike } from '../../src/store/redis-invalidation-bus.js';
import { startRedisCluster } from './redis-cluster.js';
import { startRedisSentinel } from './redis-sentinel.js';
import { startRedis } from './redis-server.js';

/** The kinds of Redis deployment a shared suite can run against. */
type RedisTargetName = 'standalone' | 'cluster' | 'sentinel';

type StandaloneClient = ReturnType<typeof createClient>;

/**
 * What a suite may do with a target's client, whichever kind it is: hand it to `createCache`, and
 * inspect keys with single-key commands (multi-key or server-wide commands behave differently on
 * a Cluster, so they are left out on purpose; use `flushAll()` of the target).
 */
export type TargetClient = Pick<
  StandaloneClient,
  'get' | 'set' | 'exists' | 'del' | 'ttl' | 'pTTL' | 'expire' | 'sAdd' | 'sMembers' | 'sCard' | 'publish'
> &
  RedisClientLike &
  RedisPublisherLike;

/** A running Redis of one kind, owned by one `describe`. */
export interface RunningRedisTarget {
  readonly name: RedisTargetName;
  /** A connected client for the suite; closed by `stop()`. */
  readonly client: TargetClient;
  /** Another connected client, e.g. for a second app instance; closed by `stop()`. */
  connect(): Promise<TargetClient>;
  /** Deletes every key, on every master of a Cluster. */
  flushAll(): Promise<void>;
  /** Closes the clients and stops the server(s). */
  stop(): Promise<void>;
}

/** A kind of Redis that a suite can be run against: call `start()` in a before-hook. */
export interface RedisTarget {
  readonly name: RedisTargetName;
  start(): Promise<RunningRedisTarget>;
}

const TARGETS: readonly RedisTarget[] = [
  { name: 'standalone', start: startStandaloneTarget },
  { name: 'cluster', start: startClusterTarget },
  { name: 'sentinel', start: startSentinelTarget },
];

/** Run unless REDIS_TARGETS says otherwise; a Sentinel client talks to one master, as standalone does. */
const DEFAULT_TARGETS: readonly RedisTargetName[] = ['standalone', 'cluster'];

/**
 * The targets a shared suite runs against, for "one suite, two targets":
 *
 * ```ts
 * for (const target of redisTargets()) {
 *   describe(`Cache over Redis (${target.name})`, () => {
 *     let redis: RunningRedisTarget;
 *     before(async () => { redis = await target.start(); });
 *     afterEach(() => redis.flushAll());
 *     after(() => redis?.stop());
 *     // ... createCache({ redis: redis.client, ... })
 *   });
 * }
 * ```
 *
 * Standalone and Cluster by default; `REDIS_TARGETS` (comma-separated names) chooses others, e.g.
 * `REDIS_TARGETS=standalone` for a quick local run or `REDIS_TARGETS=standalone,cluster,sentinel`.
 */
export function redisTargets(): RedisTarget[] {
  const named = (process.env.REDIS_TARGETS ?? '').split(',').map((name) => name.trim());
  const wanted: readonly string[] = named.some((name) => name !== '')
    ? named.filter((name) => name !== '')
    : DEFAULT_TARGETS;
  const unknown = wanted.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length > 0) throw new Error(`REDIS_TARGETS names unknown targets: ${unknown.join(', ')}`);
  return TARGETS.filter((target) => wanted.includes(target.name));
}

async function startStandaloneTarget(): Promise<RunningRedisTarget> {
  const server = await startRedis();
  const clients: { destroy(): void }[] = [];
  const connect = async () => {
    const client = createClient({ url: server.url });
    clients.push(client);
    return client.connect();
  };
  try {
    const client = await connect();
    return {
      name: 'standalone',
      client,
      connect,
      flushAll: async () => {
        await client.flushAll();
      },
      stop: async () => {
        for (const opened of clients.splice(0)) opened.destroy();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function startClusterTarget(): Promise<RunningRedisTarget> {
  // Three masters, no replicas: the shape of a production Cluster, at a third of the start-up cost.
  return targetOver('cluster', await startRedisCluster({ masters: 3 }));
}

async function startSentinelTarget(): Promise<RunningRedisTarget> {
  return targetOver('sentinel', await startRedisSentinel());
}

/** A target over a deployment that connects, empties and stops itself; stopped if its first client fails. */
async function targetOver(
  name: RedisTargetName,
  deployment: { connect(): Promise<TargetClient>; flushAll(): Promise<void>; stop(): Promise<void> },
): Promise<RunningRedisTarget> {
  try {
    return {
      name,
      client: await deployment.connect(),
      connect: () => deployment.connect(),
      flushAll: () => deployment.flushAll(),
      stop: () => deployment.stop(),
    };
  } catch (error) {
    await deployment.stop();
    throw error;
  }
}

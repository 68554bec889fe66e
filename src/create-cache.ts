import type { EventEmitter } from 'node:events';
import { register as defaultRegistry } from 'prom-client';
import { Cache } from './engine/cache.js';
import { ModeSwitch } from './engine/cache-mode.js';
import { CacheStatsRecorder, observeStats } from './engine/cache-stats.js';
import { DistributedLock } from './engine/distributed-lock.js';
import { EntryIO } from './engine/entry-io.js';
import { Invalidator } from './engine/invalidator.js';
import { KeySpace } from './engine/key-space.js';
import { LoadCoordinator } from './engine/load-coordinator.js';
import { MemoryTier } from './engine/memory-tier.js';
import { CacheOptionError } from './errors.js';
import { CacheEvents } from './events.js';
import { isClusterSafePrefix } from './keys/same-slot-key.js';
import { attachCacheLogger, createDefaultLogger } from './observability/cache-logger.js';
import { attachCacheMetrics } from './observability/cache-metrics.js';
import { type CacheOptions, type ResolvedCacheConfig, resolveCacheOptions } from './options.js';
import type { CacheStore } from './store/cache-store.js';
import type { InvalidationBus } from './store/invalidation-bus.js';
import type { RedisClientLike } from './store/redis-client-like.js';
import { isRedisClusterLike } from './store/redis-cluster-like.js';
import { RedisClusterStore } from './store/redis-cluster-store.js';
import { isRedisPublisherLike, RedisInvalidationBus } from './store/redis-invalidation-bus.js';
import { RedisStore } from './store/redis-store.js';
import { ResilientStore } from './store/resilient-store.js';

/**
 * Creates a cache-aside cache over Redis. Metrics go to prom-client's default registry unless
 * `registry` says otherwise; logs go to `logger`. Throws `TypeError` for invalid options.
 */
export function createCache(options: CacheOptions): Cache {
  const config = resolveCacheOptions(options);
  const events = new CacheEvents();
  const stats = new CacheStatsRecorder();
  observeStats(events, stats);
  if (config.registry !== false) {
    attachCacheMetrics(events, {
      registry: config.registry ?? defaultRegistry,
      prefix: config.metricsPrefix,
      cacheName: config.name,
    });
  }
  attachCacheLogger(events, config.logger ?? createDefaultLogger(config.logLevel), config.name);
  const stopWatchingConnection = watchConnection(config.redis, events);

  const keys = new KeySpace(config.prefix);
  const backend: CacheStore = config.store ?? createRedisStore(config.redis as RedisClientLike, keys);
  const store = new ResilientStore(backend, events, config.resilience);
  const memory = config.memoryTier === undefined ? undefined : new MemoryTier(config.memoryTier);
  const io = new EntryIO({
    keys,
    store,
    memory,
    events,
    serializer: config.serializer,
    ttlSeconds: config.ttlSeconds,
    staleTtlSeconds: config.staleTtlSeconds,
  });
  const lock = new DistributedLock(store, config.lock);
  const loads = new LoadCoordinator({ keys, io, lock, events, waitMs: config.loadWaitMs });
  const modes = new ModeSwitch(events);
  const invalidator = new Invalidator({
    store,
    memory,
    loads,
    bus: createBus(config, keys, events),
    modes,
    events,
    publishTimeoutMs: config.resilience.timeoutMs,
  });
  // Every instance listens, tier or not: another instance's invalidation must also stop this one
  // sharing a load that began before it.
  invalidator.listen().catch((error: unknown) => events.emit('failure', { operation: 'connection', error }));
  return new Cache({
    name: config.name,
    ttlSeconds: config.ttlSeconds,
    keys,
    serializer: config.serializer,
    store,
    io,
    loads,
    invalidator,
    modes,
    memory,
    failSafe: config.failSafe,
    events,
    stats,
    release: stopWatchingConnection,
  });
}

/**
 * A Cluster needs its multi-key commands split by hash slot, and bookkeeping keys in the slots of the
 * entries they guard; one Redis (or Sentinel's master) does not.
 */
function createRedisStore(redis: RedisClientLike, keys: KeySpace): CacheStore {
  const options = { namespace: keys.reservedPrefix };
  if (!isRedisClusterLike(redis)) return new RedisStore(redis, options);
  if (!isClusterSafePrefix(keys.prefix)) {
    throw new CacheOptionError(
      `createCache: on a Redis Cluster, \`prefix\` must have no braces or one whole hash tag (like '{shop}:'), got ${JSON.stringify(keys.prefix)}`,
    );
  }
  return new RedisClusterStore(redis, options);
}

/**
 * Every instance announces its invalidations and listens to the others', tier or not: another
 * instance's tier may hold what this one invalidates, and its loads under way may have read it.
 */
function createBus(
  config: ResolvedCacheConfig,
  keys: KeySpace,
  events: CacheEvents,
): InvalidationBus | undefined {
  if (!isRedisPublisherLike(config.redis)) return undefined;
  return new RedisInvalidationBus(config.redis, keys.channel, (error) =>
    events.emit('failure', { operation: 'connection', error }),
  );
}

/**
 * node-redis throws (and so ends the process) when a client emits `error` with no listener; a
 * cache must never take the application down because Redis went away, so the errors are observed.
 */
function watchConnection(redis: RedisClientLike | undefined, events: CacheEvents): () => void {
  const emitter = redis as Partial<Pick<EventEmitter, 'on' | 'off'>> | undefined;
  if (typeof emitter?.on !== 'function') return () => undefined;
  const onError = (error: unknown) => events.emit('failure', { operation: 'connection', error });
  emitter.on('error', onError);
  return () => emitter.off?.('error', onError);
}

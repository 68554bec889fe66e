import type { EventEmitter } from 'node:events';
import { register as defaultRegistry } from 'prom-client';
import { Cache } from './engine/cache.js';
import { ModeSwitch } from './engine/cache-mode.js';
import { CacheStatsRecorder, observeStats } from './engine/cache-stats.js';
import { NO_TRACING } from './engine/cache-tracer.js';
import { DistributedLock } from './engine/distributed-lock.js';
import { EntryIO } from './engine/entry-io.js';
import { InvalidationQueue } from './engine/invalidation-queue.js';
import { Invalidator } from './engine/invalidator.js';
import { KeySpace } from './engine/key-space.js';
import { LoadCoordinator } from './engine/load-coordinator.js';
import { MemoryTier } from './engine/memory-tier.js';
import { ReplayGate } from './engine/replay-gate.js';
import { CacheOptionError } from './errors.js';
import { CacheEvents } from './events.js';
import { isClusterSafePrefix } from './keys/same-slot-key.js';
import { attachCacheLogger, createDefaultLogger } from './observability/cache-logger.js';
import { attachCacheMetrics } from './observability/cache-metrics.js';
import {
  attachOpenTelemetry,
  type ModuleLoader,
  requireModule,
} from './observability/open-telemetry-tracer.js';
import { type CacheOptions, type ResolvedCacheConfig, resolveCacheOptions } from './options.js';
import type { CacheStore } from './store/cache-store.js';
import type { CallGuard } from './store/call-guard.js';
import { guardCluster } from './store/circuit-guarded-cluster.js';
import type { InvalidationBus } from './store/invalidation-bus.js';
import { NodeCircuits } from './store/node-circuits.js';
import type { RedisClientLike } from './store/redis-client-like.js';
import { isRedisClusterLike } from './store/redis-cluster-like.js';
import { RedisClusterStore } from './store/redis-cluster-store.js';
import { isRedisPublisherLike, RedisInvalidationBus } from './store/redis-invalidation-bus.js';
import { RedisStore } from './store/redis-store.js';
import { type ResilienceConfig, ResilientStore } from './store/resilient-store.js';

/**
 * Creates a cache-aside cache over Redis. Metrics go to prom-client's default registry unless
 * `registry` says otherwise; logs go to `logger`. Throws `TypeError` for invalid options.
 */
export function createCache(options: CacheOptions): Cache {
  return assembleCache(options, requireModule);
}

/**
 * `createCache`, with the way optional peer dependencies (`@opentelemetry/api`) are loaded given: specs
 * pass one that fails, as in an app that does not have them. Not part of the package's API.
 */
export function assembleCache(options: CacheOptions, loadModule: ModuleLoader): Cache {
  const config = resolveCacheOptions(options);
  const events = new CacheEvents();
  const stats = new CacheStatsRecorder();
  observeStats(events, stats);
  const memory = config.memoryTier === undefined ? undefined : new MemoryTier(config.memoryTier);
  const detachMetrics =
    config.registry === false
      ? () => undefined
      : attachCacheMetrics(events, {
          registry: config.registry ?? defaultRegistry,
          prefix: config.metricsPrefix,
          cacheName: config.name,
          buckets: config.metricsBuckets,
          memoryTier: memory,
        });
  attachCacheLogger(events, config.logger ?? createDefaultLogger(config.logLevel), config.name);
  const tracer = config.tracing ? attachOpenTelemetry(events, config.name, loadModule) : NO_TRACING;
  const stopWatchingConnection = watchConnection(config.redis, events);

  const keys = new KeySpace(config.prefix, config.version);
  const { backend, guard } =
    config.store === undefined
      ? createRedisStore(config.redis as RedisClientLike, keys, config.resilience, events)
      : { backend: config.store, guard: undefined };
  const resilient = new ResilientStore(backend, events, config.resilience, guard);
  const queue =
    config.invalidationQueue === undefined
      ? undefined
      : new InvalidationQueue(config.invalidationQueue, events);
  // Lookups and loads see Redis as unreachable while invalidations wait for it; invalidations do not.
  const store = queue === undefined ? resilient : new ReplayGate(resilient, queue);
  const io = new EntryIO({
    keys,
    store,
    memory,
    events,
    tracer,
    serializer: config.serializer,
    ttlSeconds: config.ttlSeconds,
    staleTtlSeconds: config.staleTtlSeconds,
    ttlJitter: config.ttlJitter,
    random: Math.random,
  });
  const lock = new DistributedLock(store, config.lock);
  const loads = new LoadCoordinator({ keys, io, lock, events, tracer, waitMs: config.loadWaitMs });
  const modes = new ModeSwitch(events);
  const invalidator = new Invalidator({
    store: resilient,
    queue,
    memory,
    loads,
    bus: createBus(config, keys, events),
    modes,
    events,
    publishTimeoutMs: config.resilience.timeoutMs,
    inOwnVersion: (entryKey) => keys.inOwnVersion(entryKey),
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
    tracer,
    release: () => {
      stopWatchingConnection();
      detachMetrics();
    },
  });
}

/**
 * A Cluster needs its multi-key commands split by hash slot, bookkeeping keys in the slots of the
 * entries they guard, and a circuit per master; one Redis (or Sentinel's master) does not. `guard`:
 * how the store's calls are guarded, when not by one circuit for the whole backend.
 */
function createRedisStore(
  redis: RedisClientLike,
  keys: KeySpace,
  resilience: ResilienceConfig,
  events: CacheEvents,
): { backend: CacheStore; guard?: CallGuard } {
  const options = { namespace: keys.reservedPrefix };
  if (!isRedisClusterLike(redis)) return { backend: new RedisStore(redis, options) };
  if (!isClusterSafePrefix(keys.prefix)) {
    throw new CacheOptionError(
      `createCache: on a Redis Cluster, \`prefix\` must have no braces or one whole hash tag (like '{shop}:'), got ${JSON.stringify(keys.prefix)}`,
    );
  }
  // Every command passes the circuit of the master it goes to: one master down leaves the others cached.
  const circuits = new NodeCircuits(resilience, (change) => events.emit('circuit', change));
  return { backend: new RedisClusterStore(guardCluster(redis, circuits), options), guard: circuits };
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

import type { EventEmitter } from 'node:events';
import { register as defaultRegistry } from 'prom-client';
import { Cache } from './engine/cache.js';
import { CacheStatsRecorder, observeStats } from './engine/cache-stats.js';
import { DistributedLock } from './engine/distributed-lock.js';
import { CacheEvents } from './events.js';
import { attachCacheLogger, createDefaultLogger } from './observability/cache-logger.js';
import { attachCacheMetrics } from './observability/cache-metrics.js';
import { type CacheOptions, resolveCacheOptions } from './options.js';
import type { CacheStore } from './store/cache-store.js';
import type { RedisClientLike } from './store/redis-client-like.js';
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
  watchConnection(config.redis, events);
  const backend: CacheStore =
    config.store ?? new RedisStore(config.redis as NonNullable<typeof config.redis>);
  const store = new ResilientStore(backend, events, config.resilience);
  return new Cache({
    name: config.name,
    prefix: config.prefix,
    ttlSeconds: config.ttlSeconds,
    staleTtlSeconds: config.staleTtlSeconds,
    serializer: config.serializer,
    store,
    lock: new DistributedLock(store, config.lock),
    failSafe: config.failSafe,
    events,
    stats,
  });
}

/**
 * node-redis throws (and so ends the process) when a client emits `error` with no listener; a
 * cache must never take the application down because Redis went away, so the errors are observed.
 */
function watchConnection(redis: RedisClientLike | undefined, events: CacheEvents): void {
  const emitter = redis as Partial<Pick<EventEmitter, 'on'>> | undefined;
  if (typeof emitter?.on !== 'function') return;
  emitter.on('error', (error: unknown) => events.emit('failure', { operation: 'connection', error }));
}

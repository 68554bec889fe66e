import type { Registry, RegistryContentType } from 'prom-client';
import type { Logger } from 'winston';
import type { FailSafeConfig } from './engine/cache.js';
import type { DistributedLockConfig } from './engine/distributed-lock.js';
import type { MemoryTierConfig } from './engine/memory-tier.js';
import { CacheOptionError } from './errors.js';
import {
  type MetricsBuckets,
  type ResolvedMetricsBuckets,
  resolveMetricsBuckets,
} from './observability/metric-buckets.js';
import { unknownOptionMessage } from './option-names.js';
import {
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
} from './option-values.js';
import { jsonSerializer } from './serialization/json-serializer.js';
import type { Serializer } from './serialization/serializer.js';
import type { CacheStore } from './store/cache-store.js';
import { isRedisClientLike, type RedisClientLike } from './store/redis-client-like.js';
import type { ResilienceConfig } from './store/resilient-store.js';

/** Options of `createCache`. Everything but `redis` (or `store`) is optional. */
export interface CacheOptions {
  /** A connected node-redis client (`createClient()`, or `createCluster()`). Required unless `store` is given. */
  redis?: RedisClientLike;
  /** A custom backend instead of `redis` (for example a `MemoryStore` in tests). */
  store?: CacheStore;
  /** Prefix of every key this cache writes. Must be non-empty. Default `'cache:'`. */
  prefix?: string;
  /** Name of the cache in metrics and logs. Default: the prefix without its trailing `:`. */
  name?: string;
  /** Freshness of an entry, in seconds. Default 60. */
  ttl?: number;
  /** How long an entry stays usable after it went stale (served while revalidating, or if loading fails), in seconds. Default 0. */
  staleTtl?: number;
  /** Serve a stale entry at once while one background refresh runs (needs `staleTtl`). Default true. */
  staleWhileRevalidate?: boolean;
  /**
   * With `staleWhileRevalidate: false`: when a stale entry exists and the loader takes longer than
   * this, serve the stale entry, in milliseconds. Default 0 (wait). With `cache.get`, the load goes on
   * and refreshes the entry; with `responseCache`, the handler's late response was made for a client
   * that got the stale entry, and is dropped.
   */
  loadTimeoutMs?: number;
  /** Lifetime of the cross-instance stampede lock, in milliseconds; 0 disables the lock. Default 5000. */
  lockTtlMs?: number;
  /** Longest wait for another instance's load before loading anyway, in milliseconds. Default: `lockTtlMs`. */
  lockWaitMs?: number;
  /** First pause between checks while waiting for another instance's load, in milliseconds. Default 10. */
  lockPollMs?: number;
  /**
   * Longest wait for a load of the same key that another call in this process runs, before loading
   * anyway (without sharing), in milliseconds. It bounds how long one slow client or one hung load can
   * hold other requests for the same key. Default 5000.
   */
  loadWaitMs?: number;
  /**
   * An in-process tier in front of Redis: a hit costs no round trip. Entries live in memory at most
   * `ttlMs`; invalidations reach every instance through Redis pub/sub. Default: off.
   */
  memoryTier?: MemoryTierOptions | false;
  /** Turns values into bytes. Default `jsonSerializer`. */
  serializer?: Serializer;
  /** prom-client registry for the metrics, or `false` for none. Default: prom-client's default registry. */
  registry?: Registry<RegistryContentType> | false;
  /** Prefix of metric names. Default `'cache_aside_'`. */
  metricsPrefix?: string;
  /**
   * Histogram buckets per family, in seconds (`request`, `load`, `redis`); a family left out keeps its
   * defaults. Caches that share a registry and `metricsPrefix` share their histograms, so they must be
   * given the same buckets. Default: dense where hits, Redis calls and typical loads fall.
   */
  metricsBuckets?: MetricsBuckets;
  /** A winston logger. Default: a console logger at `logLevel`. */
  logger?: Logger;
  /** Level of the default logger. Default `'warn'`. */
  logLevel?: string;
  /** Longest wait for one Redis call, in milliseconds; a slower call counts as failed. Default 200. */
  redisTimeoutMs?: number;
  /** Consecutive Redis failures that open the circuit breaker; 0 disables it. Default 5. */
  circuitBreakerThreshold?: number;
  /** How long the open circuit skips Redis before probing it again, in milliseconds. Default 2000. */
  circuitBreakerHalfOpenAfterMs?: number;
  /** Attempts of an invalidation before it rejects. Default 3. */
  invalidationAttempts?: number;
  /** Delay before the first invalidation retry (doubling after), in milliseconds. Default 50. */
  invalidationBackoffMs?: number;
}

/** Bounds of the in-process tier. */
export interface MemoryTierOptions {
  /** Most entries held. Default 10,000. */
  maxEntries?: number;
  /** Most bytes held (stored size of the entries). Default 64 MiB. */
  maxBytes?: number;
  /** Longest time an entry is served from memory without asking Redis, in milliseconds. Default 1000. */
  ttlMs?: number;
}

/** {@link CacheOptions} after validation, with every default applied. */
export interface ResolvedCacheConfig {
  redis: RedisClientLike | undefined;
  store: CacheStore | undefined;
  prefix: string;
  name: string;
  ttlSeconds: number;
  staleTtlSeconds: number;
  serializer: Serializer;
  failSafe: FailSafeConfig;
  lock: DistributedLockConfig;
  loadWaitMs: number;
  memoryTier: MemoryTierConfig | undefined;
  registry: Registry<RegistryContentType> | false | undefined;
  metricsPrefix: string;
  metricsBuckets: ResolvedMetricsBuckets;
  logger: Logger | undefined;
  logLevel: string;
  resilience: ResilienceConfig;
}

const LOG_LEVELS = new Set(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']);

/** Validates `options` once and returns the complete configuration; throws `TypeError` naming the bad option. */
export function resolveCacheOptions(options: CacheOptions): ResolvedCacheConfig {
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError('createCache: options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!CACHE_OPTION_NAMES.includes(name)) {
      throw new CacheOptionError(`createCache: ${unknownOptionMessage(name, CACHE_OPTION_NAMES)}`);
    }
  }
  const { redis, store } = options;
  if (redis === undefined && store === undefined) {
    throw new CacheOptionError('createCache: `redis` is required (a connected node-redis client)');
  }
  if (redis !== undefined && !isRedisClientLike(redis)) {
    throw new CacheOptionError(
      'createCache: `redis` must be a node-redis client from createClient() or createCluster()',
    );
  }
  if (redis !== undefined && hasKeyPrefix(redis)) {
    throw new CacheOptionError(
      "createCache: `redis` has node-redis's `keyPrefix` set, which SCAN patterns ignore, so invalidatePattern would silently delete nothing; use the cache's `prefix` option instead",
    );
  }
  if (redis !== undefined && (redis as { isOpen?: unknown }).isOpen === false) {
    throw new CacheOptionError(
      'createCache: the Redis client is not connected: call `await client.connect()` first (the cache never connects a client it is given)',
    );
  }
  if (store !== undefined && !hasMethods(store, STORE_METHODS)) {
    throw new CacheOptionError(`createCache: \`store\` must be a CacheStore (${STORE_METHODS.join(', ')})`);
  }
  if (options.registry !== undefined && options.registry !== false) {
    if (!hasMethods(options.registry, ['registerMetric', 'getSingleMetric', 'metrics'])) {
      throw new CacheOptionError('createCache: `registry` must be a prom-client Registry or false');
    }
  }
  if (options.logger !== undefined && !hasMethods(options.logger, ['log', 'isLevelEnabled'])) {
    throw new CacheOptionError('createCache: `logger` must be a winston Logger');
  }
  const prefix = options.prefix ?? 'cache:';
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new CacheOptionError(
      'createCache: `prefix` must be a non-empty string; an empty prefix would let invalidatePattern reach keys outside the cache',
    );
  }
  if (options.serializer !== undefined && !isSerializer(options.serializer)) {
    throw new CacheOptionError('createCache: `serializer` must have a name, serialize() and deserialize()');
  }
  const logLevel = options.logLevel ?? 'warn';
  if (!LOG_LEVELS.has(logLevel)) {
    throw new CacheOptionError(`createCache: \`logLevel\` must be one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const metricsPrefix = options.metricsPrefix ?? 'cache_aside_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metricsPrefix)) {
    throw new CacheOptionError('createCache: `metricsPrefix` must be a valid Prometheus metric name prefix');
  }
  if (options.staleWhileRevalidate !== undefined && typeof options.staleWhileRevalidate !== 'boolean') {
    throw new CacheOptionError('createCache: `staleWhileRevalidate` must be a boolean');
  }
  const lockTtlMs = nonNegativeNumber(options.lockTtlMs, 'lockTtlMs', 5000);
  return {
    redis,
    store,
    prefix,
    name: nonEmptyString(options.name, 'name') ?? (prefix.replace(/:+$/, '') || prefix),
    ttlSeconds: positiveNumber(options.ttl, 'ttl', 60),
    staleTtlSeconds: nonNegativeNumber(options.staleTtl, 'staleTtl', 0),
    serializer: options.serializer ?? jsonSerializer,
    failSafe: {
      staleWhileRevalidate: options.staleWhileRevalidate ?? true,
      loadTimeoutMs: nonNegativeNumber(options.loadTimeoutMs, 'loadTimeoutMs', 0),
    },
    memoryTier: resolveMemoryTier(options.memoryTier),
    lock: {
      ttlMs: lockTtlMs,
      waitMs: nonNegativeNumber(options.lockWaitMs, 'lockWaitMs', lockTtlMs),
      pollMs: positiveNumber(options.lockPollMs, 'lockPollMs', 10),
    },
    loadWaitMs: positiveNumber(options.loadWaitMs, 'loadWaitMs', 5000),
    registry: options.registry,
    metricsPrefix,
    metricsBuckets: resolveMetricsBuckets(options.metricsBuckets),
    logger: options.logger,
    logLevel,
    resilience: {
      timeoutMs: positiveNumber(options.redisTimeoutMs, 'redisTimeoutMs', 200),
      breakerThreshold: nonNegativeInteger(options.circuitBreakerThreshold, 'circuitBreakerThreshold', 5),
      breakerHalfOpenAfterMs: positiveNumber(
        options.circuitBreakerHalfOpenAfterMs,
        'circuitBreakerHalfOpenAfterMs',
        2000,
      ),
      invalidationAttempts: positiveInteger(options.invalidationAttempts, 'invalidationAttempts', 3),
      invalidationBackoffMs: nonNegativeNumber(options.invalidationBackoffMs, 'invalidationBackoffMs', 50),
    },
  };
}

function resolveMemoryTier(options: MemoryTierOptions | false | undefined): MemoryTierConfig | undefined {
  if (options === undefined || options === false) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError('createCache: `memoryTier` must be an object or false');
  }
  for (const name of Object.keys(options)) {
    if (!(name in MEMORY_TIER_OPTIONS)) {
      const message = unknownOptionMessage(name, Object.keys(MEMORY_TIER_OPTIONS));
      throw new CacheOptionError(`createCache: \`memoryTier\`: ${message}`);
    }
  }
  return {
    maxEntries: positiveInteger(options.maxEntries, 'memoryTier.maxEntries', 10_000),
    maxBytes: positiveInteger(options.maxBytes, 'memoryTier.maxBytes', 64 * 1024 * 1024),
    ttlMs: positiveNumber(options.ttlMs, 'memoryTier.ttlMs', 1000),
  };
}

/** Every option `createCache` takes, to reject misspelt ones (the type keeps it complete). */
const CACHE_OPTIONS: Record<keyof CacheOptions, true> = {
  redis: true,
  store: true,
  prefix: true,
  name: true,
  ttl: true,
  staleTtl: true,
  staleWhileRevalidate: true,
  loadTimeoutMs: true,
  lockTtlMs: true,
  lockWaitMs: true,
  lockPollMs: true,
  loadWaitMs: true,
  memoryTier: true,
  serializer: true,
  registry: true,
  metricsPrefix: true,
  metricsBuckets: true,
  logger: true,
  logLevel: true,
  redisTimeoutMs: true,
  circuitBreakerThreshold: true,
  circuitBreakerHalfOpenAfterMs: true,
  invalidationAttempts: true,
  invalidationBackoffMs: true,
};
const CACHE_OPTION_NAMES = Object.keys(CACHE_OPTIONS);
const MEMORY_TIER_OPTIONS: Record<keyof MemoryTierOptions, true> = {
  maxEntries: true,
  maxBytes: true,
  ttlMs: true,
};

const STORE_METHODS = [
  'get',
  'getMany',
  'set',
  'delete',
  'deleteTagged',
  'deleteMatching',
  'ttlSeconds',
  'expire',
  'acquireLock',
  'releaseLock',
];

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return methods.every((method) => typeof candidate[method] === 'function');
}

function isSerializer(value: unknown): value is Serializer {
  const candidate = value as Partial<Serializer> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.serialize === 'function' &&
    typeof candidate.deserialize === 'function'
  );
}

/** node-redis 6 exposes its client-wide `keyPrefix` option as `_keyPrefix`. */
function hasKeyPrefix(redis: object): boolean {
  const keyPrefix = (redis as { _keyPrefix?: unknown })._keyPrefix;
  return keyPrefix !== undefined && keyPrefix !== null && String(keyPrefix).length > 0;
}

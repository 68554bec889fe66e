import { Counter, Gauge, Histogram, type Metric, type Registry, type RegistryContentType } from 'prom-client';
import { CacheOptionError } from '../errors.js';
import { type ResolvedMetricsBuckets, sameBuckets } from './metric-buckets.js';
import { packageVersion } from './package-version.js';

/** What the in-process tier of one cache holds, read at every scrape. */
export interface MemoryTierGauge {
  readonly size: number;
  readonly bytes: number;
}

/** HTTP status classes, as labelled: `1xx` to `5xx`. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Why an absorbed failure happened: the call failed, took too long, or was skipped by the open circuit. */
export type ErrorReason = 'error' | 'timeout' | 'circuit_open';

/** The metric families of this package in one registry, shared by every cache attached to it. */
export interface CacheMetricFamilies {
  requestDurationSeconds: Histogram<'cache' | 'route' | 'method' | 'result' | 'status_class'>;
  lookups: Counter<'cache' | 'result'>;
  loads: Counter<'cache' | 'result'>;
  loadDurationSeconds: Histogram<'cache'>;
  errors: Counter<'cache' | 'operation' | 'reason'>;
  redisDurationSeconds: Histogram<'cache' | 'operation'>;
  coalesced: Counter<'cache'>;
  revalidations: Counter<'cache'>;
  invalidations: Counter<'cache' | 'kind'>;
  invalidationFailures: Counter<'cache' | 'kind'>;
  refusedWrites: Counter<'cache' | 'reason'>;
  circuitOpen: Gauge<'cache'>;
  invalidationQueueSize: Gauge<'cache'>;
  invalidationQueueDropped: Counter<'cache' | 'reason'>;
  circuitOpens: Counter<'cache'>;
  buildInfo: Gauge<'version'>;
  memoryTierEntries: Gauge<'cache'>;
  memoryTierBytes: Gauge<'cache'>;
  shadow: Counter<'cache' | 'route' | 'would' | 'match'>;
  purges: Counter<'cache' | 'kind'>;
  purgedEntries: Counter<'cache' | 'kind'>;
}

/**
 * The families under one prefix in one registry, with the buckets they were made with and the
 * in-process tiers of the caches attached (by an owner object per cache, read at every scrape).
 */
export interface CacheMetricSet {
  families: CacheMetricFamilies;
  buckets: ResolvedMetricsBuckets;
  memoryTiers: Map<object, { cache: string; tier: MemoryTierGauge | undefined }>;
}

type AnyRegistry = Registry<RegistryContentType>;

// The families live on the registry that holds them, by name prefix: under a symbol no other code
// holds and not enumerable, so they go with the registry, and apps that do not share a registry
// share nothing. The objects themselves are kept (not only found again by name) so that they come
// back after `registry.clear()`, where the caches attached before still count.
const FAMILIES = Symbol('express-cache-aside metric families');

type FamilyHolder = AnyRegistry & { [FAMILIES]?: Map<string, CacheMetricSet> };

/**
 * The families named `prefix…` in `registry`, created on first use (with `buckets`) and shared
 * afterwards, so that a second cache on the same registry does not throw "already registered".
 * Throws `CacheOptionError` when the registry holds a same-named metric that is not ours, or when
 * the families exist already with other buckets (a histogram has one set of buckets).
 */
export function cacheMetricFamilies(
  registry: AnyRegistry,
  prefix: string,
  buckets: ResolvedMetricsBuckets,
): CacheMetricSet {
  const holder = registry as FamilyHolder;
  let byPrefix = Object.hasOwn(holder, FAMILIES) ? holder[FAMILIES] : undefined;
  if (byPrefix === undefined) {
    if (!Object.isExtensible(holder)) {
      throw new CacheOptionError(
        '`registry` is frozen or sealed: the cache keeps its metric families on the prom-client Registry it is given, so pass one that can be extended',
      );
    }
    byPrefix = new Map();
    Object.defineProperty(holder, FAMILIES, { value: byPrefix });
  }
  const known = byPrefix.get(prefix);
  if (known !== undefined) {
    checkSameBuckets(known.buckets, buckets, prefix);
    reregisterIfCleared(registry, known.families);
    return known;
  }
  const memoryTiers: CacheMetricSet['memoryTiers'] = new Map();
  const set = { families: createFamilies(registry, prefix, buckets, memoryTiers), buckets, memoryTiers };
  byPrefix.set(prefix, set);
  return set;
}

function createFamilies(
  registry: AnyRegistry,
  prefix: string,
  buckets: ResolvedMetricsBuckets,
  memoryTiers: CacheMetricSet['memoryTiers'],
): CacheMetricFamilies {
  const registers = [registry];
  const name = (suffix: string) => {
    const fullName = prefix + suffix;
    if (registry.getSingleMetric(fullName) !== undefined) throw conflict(fullName);
    return fullName;
  };
  // Read at every scrape: a tier's size changes without events. Caches without a tier hold 0.
  const tierGauge = (suffix: string, help: string, read: (tier: MemoryTierGauge) => number) => {
    const gauge: Gauge<'cache'> = new Gauge({
      name: name(suffix),
      help,
      labelNames: ['cache'],
      registers,
      collect() {
        gauge.reset();
        for (const { cache, tier } of memoryTiers.values())
          gauge.inc({ cache }, tier === undefined ? 0 : read(tier));
      },
    });
    return gauge;
  };
  const buildInfo = new Gauge({
    name: name('build_info'),
    help: 'Always 1; `version` is the version of express-cache-aside that exports these metrics.',
    labelNames: ['version'],
    registers,
  });
  buildInfo.set({ version: packageVersion() }, 1);
  return {
    requestDurationSeconds: new Histogram({
      name: name('request_duration_seconds'),
      help:
        'HTTP requests through the response cache, timed from the middleware to the end of the response, in seconds; ' +
        'by cache, route pattern, method, result (hit, miss, stale, bypass) and status class (2xx…5xx).',
      labelNames: ['cache', 'route', 'method', 'result', 'status_class'],
      buckets: [...buckets.request],
      registers,
    }),
    lookups: new Counter({
      name: name('lookups_total'),
      help: 'Cache lookups (HTTP or not), by cache and result (hit, miss, stale).',
      labelNames: ['cache', 'result'],
      registers,
    }),
    loads: new Counter({
      name: name('loads_total'),
      help:
        'Loader runs (route handlers, for HTTP), by cache and result: ok, or error (the loader threw or ' +
        'timed out, or the handler answered with a 5xx).',
      labelNames: ['cache', 'result'],
      registers,
    }),
    loadDurationSeconds: new Histogram({
      name: name('load_duration_seconds'),
      help: 'Time spent in loaders (route handlers, for HTTP), failed loads included, in seconds.',
      labelNames: ['cache'],
      buckets: [...buckets.load],
      registers,
    }),
    errors: new Counter({
      name: name('errors_total'),
      help:
        'Failed Redis, lock, encode and decode operations that the cache absorbed, by cache, operation ' +
        'and reason (error, timeout, or circuit_open: skipped because the circuit breaker is open).',
      labelNames: ['cache', 'operation', 'reason'],
      registers,
    }),
    redisDurationSeconds: new Histogram({
      name: name('redis_duration_seconds'),
      help: 'Latency of Redis commands (failed ones included), by cache and operation, in seconds.',
      labelNames: ['cache', 'operation'],
      buckets: [...buckets.redis],
      registers,
    }),
    coalesced: new Counter({
      name: name('coalesced_total'),
      help: "Lookups served by another caller's load of the same key instead of loading again.",
      labelNames: ['cache'],
      registers,
    }),
    revalidations: new Counter({
      name: name('revalidations_total'),
      help: 'Stale entries found still current by their loader (an HTTP 304 from the handler) and made fresh again.',
      labelNames: ['cache'],
      registers,
    }),
    invalidations: new Counter({
      name: name('invalidations_total'),
      help: 'Successful invalidation calls, by cache and kind (key, tag, pattern).',
      labelNames: ['cache', 'kind'],
      registers,
    }),
    invalidationFailures: new Counter({
      name: name('invalidation_failures_total'),
      help: 'Invalidation calls that failed after their retries (the caller got E_INVALIDATION_FAILED), by cache and kind.',
      labelNames: ['cache', 'kind'],
      registers,
    }),
    refusedWrites: new Counter({
      name: name('refused_writes_total'),
      help:
        'Loaded values not stored because an invalidation came after their load began (no stale set), ' +
        'the load outlived its lease, or the lease could not be read; by cache and reason.',
      labelNames: ['cache', 'reason'],
      registers,
    }),
    circuitOpen: new Gauge({
      name: name('circuit_open'),
      help:
        'Circuit breakers in front of Redis that are open: 1 or 0 for one Redis, ' +
        'the number of masters skipped on a Redis Cluster (one circuit per master).',
      labelNames: ['cache'],
      registers,
    }),
    invalidationQueueSize: new Gauge({
      name: name('invalidation_queue_size'),
      help:
        'Invalidations that could not reach Redis and wait to be replayed; while above 0 the instance ' +
        'reads nothing from Redis.',
      labelNames: ['cache'],
      registers,
    }),
    invalidationQueueDropped: new Counter({
      name: name('invalidation_queue_dropped_total'),
      help:
        'Invalidations that could not reach Redis and will never be replayed: the queue was full ' +
        '(overflow) or they waited past maxAgeMs (age); by cache and reason.',
      labelNames: ['cache', 'reason'],
      registers,
    }),
    circuitOpens: new Counter({
      name: name('circuit_opens_total'),
      help: 'Times the circuit breaker in front of Redis opened (closed to open; a failed probe keeps it open).',
      labelNames: ['cache'],
      registers,
    }),
    buildInfo,
    memoryTierEntries: tierGauge(
      'memory_tier_entries',
      'Entries held by the in-process tier (0 without one), read at scrape time.',
      (tier) => tier.size,
    ),
    memoryTierBytes: tierGauge(
      'memory_tier_bytes',
      'Bytes held by the in-process tier (the stored size of its entries; 0 without one), read at scrape time.',
      (tier) => tier.bytes,
    ),
    shadow: new Counter({
      name: name('shadow_total'),
      help:
        'Lookups answered by their loader (a request by its handler) in shadow mode, by what the cache would ' +
        'have answered (would: hit, miss, stale) and whether that was the same as the fresh value ' +
        '(match: same, different; none when there was nothing to compare); route is empty outside HTTP.',
      labelNames: ['cache', 'route', 'would', 'match'],
      registers,
    }),
    purges: new Counter({
      name: name('purges_total'),
      help: 'Purges made through the admin router (cacheAdmin), by cache and kind (entry, tag, pattern).',
      labelNames: ['cache', 'kind'],
      registers,
    }),
    purgedEntries: new Counter({
      name: name('purged_entries_total'),
      help: 'Entries deleted by purges through the admin router (cacheAdmin), by cache and kind (entry, tag, pattern).',
      labelNames: ['cache', 'kind'],
      registers,
    }),
  };
}

function checkSameBuckets(made: ResolvedMetricsBuckets, asked: ResolvedMetricsBuckets, prefix: string): void {
  for (const family of Object.keys(made) as (keyof ResolvedMetricsBuckets)[]) {
    if (sameBuckets(made[family], asked[family])) continue;
    throw new CacheOptionError(
      `createCache: \`metricsBuckets.${family}\` differs from the buckets the ${prefix}… families of this ` +
        `registry were created with (${made[family].join(', ')}): caches sharing a registry and ` +
        '`metricsPrefix` share their histograms, so give them the same `metricsBuckets`, or another `metricsPrefix`',
    );
  }
}

/** After `registry.clear()`, our families come back on the next attach rather than vanishing silently. */
function reregisterIfCleared(registry: AnyRegistry, families: CacheMetricFamilies): void {
  for (const family of Object.values(families) as Metric[]) {
    const { name } = family as unknown as { name: string };
    const registered = registry.getSingleMetric(name);
    if (registered === undefined) registry.registerMetric(family);
    else if (registered !== family) throw conflict(name);
  }
}

function conflict(name: string): CacheOptionError {
  return new CacheOptionError(
    `metric "${name}" is already registered in this registry by other code; ` +
      'pass another `registry` or `metricsPrefix` to createCache',
  );
}

import { Counter, Gauge, Histogram, type Metric, type Registry, type RegistryContentType } from 'prom-client';
import { CacheOptionError } from '../errors.js';

/** Label names of each family; `route` is an Express route pattern, `cache` a cache's name. */
type RequestLabel = 'route' | 'method' | 'result';

/** The metric families of this package in one registry, shared by every cache attached to it. */
export interface CacheMetricFamilies {
  requests: Counter<RequestLabel>;
  requestDurationSeconds: Histogram<'route' | 'result'>;
  lookups: Counter<'cache' | 'result'>;
  loadDurationSeconds: Histogram<'cache'>;
  errors: Counter<'cache' | 'operation'>;
  redisDurationSeconds: Histogram<'cache' | 'operation'>;
  coalesced: Counter<'cache'>;
  revalidations: Counter<'cache'>;
  invalidations: Counter<'cache' | 'kind'>;
  refusedWrites: Counter<'cache' | 'reason'>;
  circuitOpen: Gauge<'cache'>;
  purges: Counter<'cache' | 'kind'>;
  purgedEntries: Counter<'cache' | 'kind'>;
}

/** From a sub-millisecond hit to a multi-second load, in seconds. */
const RESPONSE_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Redis round trips: 100 µs on loopback up to the one-second range of a struggling server, in seconds. */
const REDIS_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

type AnyRegistry = Registry<RegistryContentType>;

// The families live on the registry that holds them, by name prefix: under a symbol no other code
// holds and not enumerable, so they go with the registry, and apps that do not share a registry
// share nothing. The objects themselves are kept (not only found again by name) so that they come
// back after `registry.clear()`, where the caches attached before still count.
const FAMILIES = Symbol('express-cache-aside metric families');

type FamilyHolder = AnyRegistry & { [FAMILIES]?: Map<string, CacheMetricFamilies> };

/**
 * The families named `prefix…` in `registry`, created on first use and shared afterwards, so that
 * a second cache (or middleware) on the same registry does not throw "already registered".
 * Throws `CacheOptionError` when the registry holds a same-named metric that is not ours.
 */
export function cacheMetricFamilies(registry: AnyRegistry, prefix: string): CacheMetricFamilies {
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
    reregisterIfCleared(registry, known);
    return known;
  }
  const families = createFamilies(registry, prefix);
  byPrefix.set(prefix, families);
  return families;
}

function createFamilies(registry: AnyRegistry, prefix: string): CacheMetricFamilies {
  const registers = [registry];
  const name = (suffix: string) => {
    const fullName = prefix + suffix;
    if (registry.getSingleMetric(fullName) !== undefined) throw conflict(fullName);
    return fullName;
  };
  return {
    requests: new Counter({
      name: name('requests_total'),
      help: 'HTTP requests seen by the response cache, by route pattern, method and result (hit, miss, stale, bypass).',
      labelNames: ['route', 'method', 'result'],
      registers,
    }),
    requestDurationSeconds: new Histogram({
      name: name('request_duration_seconds'),
      help: 'Time from the response cache middleware to the end of the response, in seconds.',
      labelNames: ['route', 'result'],
      buckets: [...RESPONSE_BUCKETS_SECONDS],
      registers,
    }),
    lookups: new Counter({
      name: name('lookups_total'),
      help: 'Cache lookups (HTTP or not), by cache and result (hit, miss, stale).',
      labelNames: ['cache', 'result'],
      registers,
    }),
    loadDurationSeconds: new Histogram({
      name: name('load_duration_seconds'),
      help: 'Time spent in loaders (route handlers, for HTTP) on misses, in seconds.',
      labelNames: ['cache'],
      buckets: [...RESPONSE_BUCKETS_SECONDS],
      registers,
    }),
    errors: new Counter({
      name: name('errors_total'),
      help: 'Failed Redis, lock, encode and decode operations that the cache absorbed, by cache and operation.',
      labelNames: ['cache', 'operation'],
      registers,
    }),
    redisDurationSeconds: new Histogram({
      name: name('redis_duration_seconds'),
      help: 'Latency of Redis commands (failed ones included), by cache and operation, in seconds.',
      labelNames: ['cache', 'operation'],
      buckets: [...REDIS_BUCKETS_SECONDS],
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
      help: 'Whether the circuit breaker in front of Redis is open (1) or closed (0).',
      labelNames: ['cache'],
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

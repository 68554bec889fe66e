import type { Registry, RegistryContentType } from 'prom-client';
import { PURGE_KINDS } from '../admin/purge-events.js';
import { CacheError } from '../errors.js';
import type {
  CacheEvents,
  FailureOperation,
  InvalidationDropReason,
  InvalidationKind,
  LookupResult,
  RefusedWriteReason,
  StoreOperation,
} from '../events.js';
import {
  type CacheMetricFamilies,
  cacheMetricFamilies,
  type ErrorReason,
  type MemoryTierGauge,
  type StatusClass,
} from './cache-metric-families.js';
import type { ResolvedMetricsBuckets } from './metric-buckets.js';

/** Where and under which names a cache's metrics go. */
export interface CacheMetricsOptions {
  /** The prom-client registry that holds the families (shared by every cache attached to it). */
  registry: Registry<RegistryContentType>;
  /** Prefix of every metric name, e.g. `'cache_aside_'`. */
  prefix: string;
  /** Value of the `cache` label of this cache's series. */
  cacheName: string;
  /** Histogram buckets; must equal those of the families when another cache created them already. */
  buckets: ResolvedMetricsBuckets;
  /** The cache's in-process tier, read at every scrape; `undefined` without one. */
  memoryTier?: MemoryTierGauge | undefined;
}

// `satisfies` makes the compiler list every label value, so a new operation cannot be forgotten here.
const FAILURE_OPERATIONS = Object.keys({
  get: true,
  get_many: true,
  set: true,
  delete: true,
  delete_tagged: true,
  delete_matching: true,
  ttl: true,
  expire: true,
  lock_acquire: true,
  lock_release: true,
  lease: true,
  inspect: true,
  decode: true,
  encode: true,
  connection: true,
  publish: true,
} satisfies Record<FailureOperation, true>) as FailureOperation[];
const LOOKUP_RESULTS: readonly LookupResult[] = ['hit', 'miss', 'stale'];
const INVALIDATION_KINDS: readonly InvalidationKind[] = ['key', 'tag', 'pattern'];
const REFUSED_WRITE_REASONS = Object.keys({
  invalidated: true,
  'lease-expired': true,
  'lease-unavailable': true,
} satisfies Record<RefusedWriteReason, true>) as RefusedWriteReason[];
const INVALIDATION_DROP_REASONS = Object.keys({
  overflow: true,
  age: true,
} satisfies Record<InvalidationDropReason, true>) as InvalidationDropReason[];
// The operations every cache-aside cache performs; other operations get their series when first used.
const COMMON_STORE_OPERATIONS: readonly StoreOperation[] = ['get', 'set'];
const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * Turns the events of one cache into Prometheus metrics in `registry`. The families are created
 * once per registry and prefix; this cache's series carry `cache="<cacheName>"`. Series whose
 * label values are known up front start at zero, so rates exist from the first scrape. Returns
 * what detaches the cache from the families that read it at scrape time (its tier gauges).
 */
export function attachCacheMetrics(events: CacheEvents, options: CacheMetricsOptions): () => void {
  const { families: metrics, memoryTiers } = cacheMetricFamilies(
    options.registry,
    options.prefix,
    options.buckets,
  );
  const cache = options.cacheName;
  startAtZero(metrics, cache);
  const owner = {};
  memoryTiers.set(owner, { cache, tier: options.memoryTier });

  events.on('request', ({ route, method, result, status, durationSeconds }) => {
    const labels = { cache, route, method, result, status_class: statusClassOf(status) };
    metrics.requestDurationSeconds.observe(labels, durationSeconds);
  });
  events.on('lookup', ({ result }) => metrics.lookups.inc({ cache, result }));
  events.on('load', ({ durationSeconds, failed }) => {
    metrics.loads.inc({ cache, result: failed ? 'error' : 'ok' });
    metrics.loadDurationSeconds.observe({ cache }, durationSeconds);
  });
  events.on('coalesced', () => metrics.coalesced.inc({ cache }));
  events.on('revalidated', () => metrics.revalidations.inc({ cache }));
  events.on('store-operation', ({ operation, durationSeconds }) =>
    metrics.redisDurationSeconds.observe({ cache, operation }, durationSeconds),
  );
  events.on('failure', ({ operation, error }) =>
    metrics.errors.inc({ cache, operation, reason: reasonOf(error) }),
  );
  events.on('invalidation', ({ kind }) => metrics.invalidations.inc({ cache, kind }));
  events.on('invalidation-failed', ({ kind }) => metrics.invalidationFailures.inc({ cache, kind }));
  events.on('write-refused', ({ reason }) => metrics.refusedWrites.inc({ cache, reason }));
  events.on('shadow', ({ route = '', would, match }) => metrics.shadow.inc({ cache, route, would, match }));
  events.on('purge', ({ kind, purged }) => {
    metrics.purges.inc({ cache, kind });
    metrics.purgedEntries.inc({ cache, kind }, purged);
  });
  // One circuit for one Redis, one per master on a Cluster (named by `node`): the gauge counts those open.
  const openCircuits = new Set<string>();
  events.on('circuit', ({ open, node = '' }) => {
    if (open) openCircuits.add(node);
    else openCircuits.delete(node);
    metrics.circuitOpen.set({ cache }, openCircuits.size);
    if (open) metrics.circuitOpens.inc({ cache });
  });
  const setQueueSize = ({ queueSize }: { queueSize: number }) =>
    metrics.invalidationQueueSize.set({ cache }, queueSize);
  events.on('invalidation-queued', setQueueSize);
  events.on('invalidation-replayed', setQueueSize);
  events.on('invalidation-dropped', (dropped) => {
    setQueueSize(dropped);
    metrics.invalidationQueueDropped.inc({ cache, reason: dropped.reason });
  });
  return () => memoryTiers.delete(owner);
}

function startAtZero(metrics: CacheMetricFamilies, cache: string): void {
  for (const result of LOOKUP_RESULTS) metrics.lookups.inc({ cache, result }, 0);
  for (const result of ['ok', 'error']) metrics.loads.inc({ cache, result }, 0);
  for (const operation of FAILURE_OPERATIONS) metrics.errors.inc({ cache, operation, reason: 'error' }, 0);
  // What a Redis outage looks like, so that alerts on it see the series rise from zero.
  for (const operation of COMMON_STORE_OPERATIONS) {
    metrics.errors.inc({ cache, operation, reason: 'timeout' }, 0);
    metrics.errors.inc({ cache, operation, reason: 'circuit_open' }, 0);
  }
  for (const kind of INVALIDATION_KINDS) {
    metrics.invalidations.inc({ cache, kind }, 0);
    metrics.invalidationFailures.inc({ cache, kind }, 0);
  }
  for (const reason of REFUSED_WRITE_REASONS) metrics.refusedWrites.inc({ cache, reason }, 0);
  for (const kind of PURGE_KINDS) {
    metrics.purges.inc({ cache, kind }, 0);
    metrics.purgedEntries.inc({ cache, kind }, 0);
  }
  for (const operation of COMMON_STORE_OPERATIONS) metrics.redisDurationSeconds.zero({ cache, operation });
  metrics.coalesced.inc({ cache }, 0);
  metrics.revalidations.inc({ cache }, 0);
  metrics.loadDurationSeconds.zero({ cache });
  metrics.circuitOpen.set({ cache }, 0);
  metrics.invalidationQueueSize.set({ cache }, 0);
  for (const reason of INVALIDATION_DROP_REASONS) metrics.invalidationQueueDropped.inc({ cache, reason }, 0);
  metrics.circuitOpens.inc({ cache }, 0);
}

/** `2xx` for 204; a status outside 100–599 (which Node does not send) counts as a server error. */
function statusClassOf(status: number): StatusClass {
  return STATUS_CLASSES[Math.floor(status / 100) - 1] ?? '5xx';
}

function reasonOf(error: unknown): ErrorReason {
  if (!(error instanceof CacheError)) return 'error';
  if (error.code === 'E_CIRCUIT_OPEN') return 'circuit_open';
  return error.code === 'E_STORE_TIMEOUT' ? 'timeout' : 'error';
}

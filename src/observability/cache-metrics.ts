import type { Registry, RegistryContentType } from 'prom-client';
import { PURGE_KINDS } from '../admin/purge-events.js';
import { CacheError } from '../errors.js';
import type {
  CacheEvents,
  FailureOperation,
  InvalidationKind,
  LookupResult,
  RefusedWriteReason,
  StoreOperation,
} from '../events.js';
import { cacheMetricFamilies } from './cache-metric-families.js';

/** Where and under which names a cache's metrics go. */
export interface CacheMetricsOptions {
  /** The prom-client registry that holds the families (shared by every cache attached to it). */
  registry: Registry<RegistryContentType>;
  /** Prefix of every metric name, e.g. `'cache_aside_'`. */
  prefix: string;
  /** Value of the `cache` label of this cache's series. */
  cacheName: string;
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
// The operations every cache-aside cache performs; other operations get their series when first used.
const COMMON_STORE_OPERATIONS: readonly StoreOperation[] = ['get', 'set'];

/**
 * Turns the events of one cache into Prometheus metrics in `registry`. The families are created
 * once per registry and prefix; this cache's series carry `cache="<cacheName>"`. Series whose
 * label values are known up front start at zero, so rates exist from the first scrape.
 */
export function attachCacheMetrics(events: CacheEvents, options: CacheMetricsOptions): void {
  const metrics = cacheMetricFamilies(options.registry, options.prefix);
  const cache = options.cacheName;

  for (const result of LOOKUP_RESULTS) metrics.lookups.inc({ cache, result }, 0);
  for (const operation of FAILURE_OPERATIONS) metrics.errors.inc({ cache, operation }, 0);
  for (const kind of INVALIDATION_KINDS) metrics.invalidations.inc({ cache, kind }, 0);
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

  events.on('request', ({ route, method, result, durationSeconds }) => {
    metrics.requests.inc({ route, method, result });
    metrics.requestDurationSeconds.observe({ route, result }, durationSeconds);
  });
  events.on('lookup', ({ result }) => metrics.lookups.inc({ cache, result }));
  events.on('load', ({ durationSeconds }) => metrics.loadDurationSeconds.observe({ cache }, durationSeconds));
  events.on('coalesced', () => metrics.coalesced.inc({ cache }));
  events.on('revalidated', () => metrics.revalidations.inc({ cache }));
  events.on('store-operation', ({ operation, durationSeconds }) =>
    metrics.redisDurationSeconds.observe({ cache, operation }, durationSeconds),
  );
  events.on('failure', ({ operation, error }) => {
    // A call skipped by the open circuit never reached Redis; `circuit_open` reports that state.
    if (error instanceof CacheError && error.code === 'E_CIRCUIT_OPEN') return;
    metrics.errors.inc({ cache, operation });
  });
  events.on('invalidation', ({ kind }) => metrics.invalidations.inc({ cache, kind }));
  events.on('write-refused', ({ reason }) => metrics.refusedWrites.inc({ cache, reason }));
  events.on('circuit', ({ open }) => metrics.circuitOpen.set({ cache }, open ? 1 : 0));
  events.on('purge', ({ kind, purged }) => {
    metrics.purges.inc({ cache, kind });
    metrics.purgedEntries.inc({ cache, kind }, purged);
  });
}

/** Header naming why a request failed: `data-source` (the injected fault) or `app` (anything else). */
export const FAILURE_HEADER = 'x-soak-failure';
/**
 * Beside a `data-source` failure of a GET: `failed` when the cache could not read the entry from
 * Redis either (a timeout, a lost connection, an open circuit), `queued` when it did not read Redis
 * because invalidations waited to be replayed (README, "Invalidations"), `ok` when Redis answered.
 */
export const REDIS_READ_HEADER = 'x-soak-redis-read';

/** How the driver configures one app instance (passed as JSON in its argv). */
export interface InstanceConfig {
  /** `tiered` (with `memoryTier`) or `plain` (without): names used in every report. */
  name: string;
  redisUrl: string;
  dataSourceUrl: string;
  /** `memoryTier.ttlMs`, or undefined for an instance without the in-process tier. */
  memoryTierTtlMs: number | undefined;
  ttlSeconds: number;
  staleTtlSeconds: number;
  staleWhileRevalidate: boolean;
  redisTimeoutMs: number;
  /** False only to prove the oracle: PUTs are then acknowledged without any invalidation. */
  invalidate: boolean;
}

/** What an instance counted during the run, sent back when the driver asks. */
export interface InstanceReport {
  name: string;
  cacheStats: Record<string, number>;
  /** `failure` events of the cache by operation (get, set, lock, publish, connection…). */
  cacheFailures: Record<string, number>;
  circuitOpened: number;
  redisClientErrors: number;
  /** Unexpected errors of the app (not data-source refusals), by message, at most 20 kinds. */
  appErrors: Record<string, number>;
}

export type DriverMessage = { type: 'report' } | { type: 'stop' };
export type InstanceMessage =
  | { type: 'ready'; port: number }
  | { type: 'report'; report: InstanceReport }
  | { type: 'failed'; message: string };

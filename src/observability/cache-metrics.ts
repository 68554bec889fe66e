// TEMPORARY: replaced by the observability work (issue 5).
import type { Registry } from 'prom-client';
import type { CacheEvents } from '../events.js';

export interface CacheMetricsOptions {
  registry: Registry;
  prefix: string;
  cacheName: string;
}

export function attachCacheMetrics(_events: CacheEvents, _options: CacheMetricsOptions): void {}

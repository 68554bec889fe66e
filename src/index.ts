export { type CacheAdminEngine, type CacheAdminOptions, cacheAdmin } from './admin/cache-admin.js';
export type { EntryReport } from './admin/entry-report.js';
export type { PurgeKind, PurgeRequest } from './admin/purge-events.js';
export { createCache } from './create-cache.js';
export {
  type BatchLoader,
  Cache,
  type EntryOptions,
  type InvalidateOptions,
  type Loader,
  type LookupOutcome,
  type SetModeOptions,
  type ShadowVerdict,
} from './engine/cache.js';
export type {
  CacheInspector,
  EntryInspection,
  FoundKeys,
  KeySearchOptions,
  MemoryTierSize,
  TagMembersPage,
} from './engine/cache-inspector.js';
export type { CacheStats } from './engine/cache-stats.js';
export type { LoadCause, LoadContext } from './engine/entry-options.js';
export type { LoadLease } from './engine/load-lease.js';
export { CacheError, type CacheErrorCode, CacheOptionError } from './errors.js';
export type {
  CacheEventMap,
  CacheEvents,
  CacheMode,
  InvalidationDropReason,
  InvalidationKind,
  LookupResult,
  RefusedWriteReason,
  ShadowMatch,
} from './events.js';
export { addCacheTags } from './http/cache-tags.js';
export { type InvalidateOnSuccessOptions, invalidateOnSuccess } from './http/invalidate-on-success.js';
export { isBackgroundRefresh } from './http/refresh-in-background.js';
export type { RequestResult } from './http/request-events.js';
export { type RouteMiddleware, responseCache } from './http/response-cache.js';
export { type ResponseCacheKeyTarget, responseCacheKey } from './http/response-cache-key.js';
export type { ResponseCacheOptions } from './http/response-cache-options.js';
export type { RequestReason, ResponseCacheEngine } from './http/route-caching.js';
export type { MetricsBuckets } from './observability/metric-buckets.js';
export { type MetricsHandler, metricsHandler } from './observability/metrics-handler.js';
export type { CacheOptions, InvalidationQueueOptions, MemoryTierOptions } from './options.js';
export { connectRedis, createRedisClient, type RedisConnectionOptions } from './redis-connection.js';
export {
  type CompressedSerializerOptions,
  type CompressionAlgorithm,
  compressedSerializer,
} from './serialization/compressed-serializer.js';
export { jsonSerializer } from './serialization/json-serializer.js';
export { msgpackSerializer } from './serialization/msgpack-serializer.js';
export type { Serializer } from './serialization/serializer.js';
export type {
  CacheStore,
  InspectionMethod,
  KeyScan,
  Lease,
  LeasedLockAndValue,
  LockAndValue,
  LockRelease,
  ScanPage,
  StoreRenewal,
  StoreSetOptions,
  StoreWriteResult,
  TaggedDeletion,
} from './store/cache-store.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { RedisClientLike } from './store/redis-client-like.js';

export { createCache } from './create-cache.js';
export {
  type BatchLoader,
  Cache,
  type EntryOptions,
  type Loader,
  type LookupOutcome,
} from './engine/cache.js';
export type { CacheStats } from './engine/cache-stats.js';
export { CacheError, type CacheErrorCode, CacheOptionError } from './errors.js';
export type { CacheEventMap, CacheEvents, InvalidationKind, LookupResult, RequestResult } from './events.js';
export type { CacheOptions } from './options.js';
export { connectRedis, createRedisClient, type RedisConnectionOptions } from './redis-connection.js';
export {
  type CompressedSerializerOptions,
  type CompressionAlgorithm,
  compressedSerializer,
} from './serialization/compressed-serializer.js';
export { jsonSerializer } from './serialization/json-serializer.js';
export { msgpackSerializer } from './serialization/msgpack-serializer.js';
export type { Serializer } from './serialization/serializer.js';
export type { CacheStore, StoreSetOptions } from './store/cache-store.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { RedisClientLike } from './store/redis-client-like.js';

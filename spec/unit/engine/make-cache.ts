import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { encodeValue } from '../../../src/engine/entry-codec.js';
import type { CacheOptions } from '../../../src/options.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import type { Serializer } from '../../../src/serialization/serializer.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { silentLogger } from '../../support/silent-logger.js';
import type { StubRedisClient } from '../../support/stub-redis-client.js';

/** A cache over a fresh `MemoryStore` (or `options.store`), with no metrics and no log output. */
export function makeCache(options: Partial<CacheOptions> = {}): Cache {
  return createCache({
    store: new MemoryStore(),
    prefix: 'test:',
    ttl: 60,
    registry: false,
    logger: silentLogger,
    ...options,
  });
}

/** A cache over a stubbed node-redis client, prefix `test:`, ttl 60 s. */
export function makeStubbedCache(redis: StubRedisClient, options: Partial<CacheOptions> = {}): Cache {
  return createCache({ redis, prefix: 'test:', ttl: 60, registry: false, logger: silentLogger, ...options });
}

/** The bytes the engine itself writes for `value`: a v1 envelope, fresh for `ttlSeconds` from now. */
export function storedEntry(
  value: unknown,
  { ttlSeconds = 60, staleTtlSeconds = 0, serializer = jsonSerializer as Serializer } = {},
): Buffer {
  const createdAtMs = Date.now();
  const freshUntilMs = createdAtMs + ttlSeconds * 1000;
  return encodeValue(serializer, {
    value,
    createdAtMs,
    freshUntilMs,
    staleUntilMs: freshUntilMs + staleTtlSeconds * 1000,
  });
}

/** The `set` calls of a stubbed client that wrote cache entries (not stampede locks or tag indexes). */
export function entryWrites(redis: StubRedisClient) {
  return redis.set.getCalls().filter((call) => !call.args[0].includes('__ca:'));
}

import { type Cache, type CacheOptions, createCache } from '../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS } from './busy-machine.js';
import type { RedisClient } from './redis-server-fixture.js';
import { silentLogger } from './silent-logger.js';

/**
 * A cache over `redis` for a spec that is not about timeouts: a busy machine's slow reply must not be
 * given up (a lock not taken, a write not made). No metrics registry and no log output; `options` add
 * to these or replace them.
 */
export function patientCache(redis: RedisClient, options: Partial<CacheOptions> = {}): Cache {
  return createCache({
    redis,
    registry: false,
    logger: silentLogger,
    redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    ...options,
  });
}

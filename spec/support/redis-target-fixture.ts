import { type Cache, type CacheOptions, createCache } from '../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from './busy-machine.js';
import type { RedisTarget, RunningRedisTarget, TargetClient } from './redis-targets.js';
import { silentLogger } from './silent-logger.js';

/** One Redis target for a `describe`, and the caches its tests make over it. */
export interface RedisTargetFixture {
  /** The running target (set by the fixture's before-hook). */
  readonly redis: RunningRedisTarget;
  /**
   * A cache over `client`, with no metrics and no log output, closed after the test. Its Redis
   * calls are patient: these specs are not about timeouts, and a busy machine's slow reply must not
   * count as a failed call (a miss, an error, a refused write).
   */
  cacheOver(client: TargetClient, options?: Partial<CacheOptions>): Cache;
}

/**
 * Starts `target` before the tests of the calling `describe`, closes the caches a test made and
 * empties Redis after each test, and stops the target after them all. `defaults` apply to every
 * cache made with {@link RedisTargetFixture.cacheOver}.
 */
export function useRedisTarget(
  target: RedisTarget,
  defaults: Partial<CacheOptions> = {},
): RedisTargetFixture {
  let running: RunningRedisTarget | undefined;
  const caches: Cache[] = [];

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    running = await target.start();
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await running?.flushAll();
  });

  after(async () => {
    await running?.stop();
  });

  return {
    get redis() {
      if (running === undefined) throw new Error(`the ${target.name} target is not started yet`);
      return running;
    },
    cacheOver(client, options = {}) {
      const cache = createCache({
        redis: client,
        registry: false,
        logger: silentLogger,
        redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
        ...defaults,
        ...options,
      });
      caches.push(cache);
      return cache;
    },
  };
}

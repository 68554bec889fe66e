// Pub/sub delivers at most once: an invalidation announced while an instance's subscriber was
// disconnected never reaches it. So an instance whose subscription broke cannot trust its in-process
// tier, and drops it when the subscription is back.
import { expect } from 'chai';
import { type Cache, createCache } from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';

const CHANNEL = 'resync:__ca:invalidations';

describe('memory tier after its invalidation subscription broke', function () {
  this.timeout(30_000);
  const redis = useConnectedRedis();
  let cache: Cache;

  beforeEach(async () => {
    await redis.client.flushAll();
    cache = createCache({
      redis: await redis.server.connect(),
      prefix: 'resync:',
      registry: false,
      logger: silentLogger,
      memoryTier: { ttlMs: 60_000 },
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    await cacheListens('the cache listens');
  });

  afterEach(async () => {
    await cache.close();
  });

  const cacheListens = (message: string) =>
    eventually(async () => (await redis.client.pubSubNumSub(CHANNEL))[CHANNEL] === 1, { message });

  /** v1 in Redis and in the tier; then removed from Redis with no announcement, as a missed one would be. */
  async function cachedThenRemovedUnannounced(): Promise<void> {
    expect(await cache.get('product:1', async () => 'v1')).to.equal('v1');
    await eventually(async () => (await redis.client.exists('resync:product:1')) === 1, {
      message: 'v1 stored',
    });
    await redis.client.del('resync:product:1');
  }

  it('keeps serving its tier copy while the subscription holds (the control: nothing was announced)', async () => {
    await cachedThenRemovedUnannounced();
    expect(await cache.get('product:1', async () => 'v2')).to.equal('v1');
  });

  it('drops its tier when the subscription comes back after CLIENT KILL, so a missed invalidation cannot keep an old copy', async () => {
    await cachedThenRemovedUnannounced();
    const killed = await redis.client.clientKill({ filter: 'TYPE', type: 'pubsub' });
    expect(killed, 'subscriber connections killed').to.equal(1);
    await cacheListens('the cache listens again');

    expect(await cache.get('product:1', async () => 'v2')).to.equal('v2');
  });
});

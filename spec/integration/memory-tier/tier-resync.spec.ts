// Pub/sub delivers at most once: an invalidation announced while an instance's subscriber was
// disconnected never reaches it. So an instance whose subscription broke cannot trust its in-process
// tier, and drops it when the subscription is back.
import { expect } from 'chai';
import { createClient } from 'redis';
import { type Cache, createCache } from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';

const CHANNEL = 'resync:__ca:invalidations';
const connectTo = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connectTo>>;

describe('memory tier after its invalidation subscription broke', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let admin: Client;
  let app: Client;
  let cache: Cache;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    admin = await connectTo(redis.url);
  });

  after(async () => {
    admin.destroy();
    await redis.stop();
  });

  beforeEach(async () => {
    await admin.flushAll();
    app = await connectTo(redis.url);
    cache = createCache({
      redis: app,
      prefix: 'resync:',
      registry: false,
      logger: silentLogger,
      memoryTier: { ttlMs: 60_000 },
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    await eventually(async () => (await admin.pubSubNumSub(CHANNEL))[CHANNEL] === 1, {
      message: 'the cache listens',
    });
  });

  afterEach(async () => {
    await cache.close();
    app.destroy();
  });

  /** v1 in Redis and in the tier; then removed from Redis with no announcement, as a missed one would be. */
  async function cachedThenRemovedUnannounced(): Promise<void> {
    expect(await cache.get('product:1', async () => 'v1')).to.equal('v1');
    await eventually(async () => (await admin.exists('resync:product:1')) === 1, { message: 'v1 stored' });
    await admin.del('resync:product:1');
  }

  it('keeps serving its tier copy while the subscription holds (the control: nothing was announced)', async () => {
    await cachedThenRemovedUnannounced();
    expect(await cache.get('product:1', async () => 'v2')).to.equal('v1');
  });

  it('drops its tier when the subscription comes back after CLIENT KILL, so a missed invalidation cannot keep an old copy', async () => {
    await cachedThenRemovedUnannounced();
    const killed = await admin.clientKill({ filter: 'TYPE', type: 'pubsub' });
    expect(killed, 'subscriber connections killed').to.equal(1);
    await eventually(async () => (await admin.pubSubNumSub(CHANNEL))[CHANNEL] === 1, {
      message: 'the cache listens again',
    });

    expect(await cache.get('product:1', async () => 'v2')).to.equal('v2');
  });
});

// An invalidation made while Redis is down is queued by the instance that made it (A) and replayed
// once Redis is back, before A reads from Redis again; another instance (B, a child process) learns
// of it from the replay's announcement. Redis keeps its data across the restart (AOF), as a Redis
// with persistence, or one cut off by the network, does: without the replay the old entry would be
// served again.
import { expect } from 'chai';
import { createClient } from 'redis';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheEventMap } from '../../../src/events.js';
import type { CacheOptions } from '../../../src/options.js';
import { createRedisClient, type RedisConnection } from '../../../src/redis-connection.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { withRedisOutage } from '../../support/redis-outage.js';
import { type RedisProcess, spawnRedis } from '../../support/redis-server.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { silentLogger } from '../../support/silent-logger.js';
import { startTierWorker, type TierWorker } from '../../support/tier-worker-process.js';
import { type VersionedCache, versionedCache } from '../../support/versioned-cache.js';

const PREFIX = 'replay:';
const CHANNEL = `${PREFIX}__ca:invalidations`;
/** Longer than any test: within one, only an invalidation can drop what a tier holds. */
const TIER = { maxEntries: 1000, maxBytes: 1_000_000, ttlMs: 60_000 };
/** Every write reaches the disk before Redis answers it, so a SIGKILL loses nothing acknowledged. */
const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'always'];
/** Bounds of a wait for a reconnection or a replay: a hang, not a speed, on a busy machine. */
const RECOVERY_BOUNDS = { timeoutMs: 30_000, maxTries: 3000, intervalMs: 20 };

/** Instance A: a cache in this process over a client of its own, which fails at once while Redis is down. */
interface InstanceA {
  cache: Cache;
  client: RedisConnection;
  reader: VersionedCache;
}

describe('Invalidations made while Redis is down, replayed once it is back (two processes)', function () {
  this.timeout(120_000);
  let redis: RedisProcess;
  let admin: ReturnType<typeof createClient>;
  /** Instance B, in a child process, with a tier. */
  let b: TierWorker;
  let a: InstanceA | undefined;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await spawnRedis(PERSISTENT);
    admin = createClient({ url: redis.url, socket: { reconnectStrategy: () => 50 } });
    admin.on('error', () => undefined);
    await admin.connect();
    b = await startTierWorker({ redisUrl: redis.url, prefix: PREFIX, memoryTierTtlMs: TIER.ttlMs });
  });

  after(async () => {
    await b?.stop();
    admin?.destroy();
    await redis?.dispose();
  });

  beforeEach(async () => {
    // A test that failed while Redis was down left it down.
    if (!redis.running) await redis.start();
  });

  afterEach(async () => {
    await a?.cache.close();
    a?.client.destroy();
    a = undefined;
  });

  async function startA(options: Partial<CacheOptions>): Promise<InstanceA> {
    const client = createRedisClient({ url: redis.url, maxReconnectDelayMs: 100 });
    client.on('error', () => undefined);
    await client.connect();
    const cache = createCache({
      redis: client,
      prefix: PREFIX,
      registry: false,
      logger: silentLogger,
      memoryTier: TIER,
      // Not about timeouts: a busy machine's slow reply must not fail a read or an invalidation.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
      invalidationBackoffMs: 10,
      circuitBreakerHalfOpenAfterMs: 200,
      ...options,
    });
    a = { cache, client, reader: versionedCache(cache) };
    await bothListen();
    return a;
  }

  /** Both instances are subscribed: an announcement made from now on reaches the other one. */
  async function bothListen(): Promise<void> {
    await eventually(async () => (await admin.pubSubNumSub(CHANNEL))[CHANNEL] === 2, {
      ...RECOVERY_BOUNDS,
      message: 'A and B listen for announcements (PUBSUB NUMSUB)',
    });
  }

  /** `key` (tagged `tag`) at version 1 in Redis and in both tiers: B's copy came from Redis. */
  async function bothHoldVersionOne(instance: InstanceA, key: string, tag: string): Promise<void> {
    expect(await instance.reader.read(key, 1, [tag]), 'A loads version 1').to.deep.equal({
      version: 1,
      loads: 1,
    });
    expect(await b.read(key, 2, [tag]), 'B reads version 1 from Redis').to.deep.equal({
      version: 1,
      loads: 0,
    });
  }

  /** Stops Redis until `whileDown` is done, then waits until A's queue is replayed and B listens again. */
  async function outage(instance: InstanceA, whileDown: () => Promise<void>): Promise<void> {
    await withRedisOutage(redis, {
      noticed: () => !instance.client.isReady,
      noticedWithin: { ...RECOVERY_BOUNDS, message: "A's client saw Redis go" },
      whileDown,
      recovered: () => instance.cache.stats().queuedInvalidations === 0 && instance.client.isReady,
      recoveredWithin: { ...RECOVERY_BOUNDS, message: "A's queue is replayed" },
    });
    await bothListen();
  }

  it('A rejects with E_INVALIDATION_FAILED, serves nothing from Redis until its replay, and B drops its copy on the replay’s announcement', async () => {
    // No timer within the test: the replay comes when another invalidation of A gets through.
    const instance = await startA({ invalidationQueue: { replayIntervalMs: 600_000 } });
    await bothHoldVersionOne(instance, 'held:item', 'held');
    await withRedisOutage(redis, {
      noticed: () => !instance.client.isReady,
      noticedWithin: { ...RECOVERY_BOUNDS, message: "A's client saw Redis go" },
      whileDown: async () => {
        const error = await rejectionOf(instance.cache.invalidateTags(['held']));
        expect(error).to.have.property('code', 'E_INVALIDATION_FAILED');
        expect((error as Error).message).to.match(/queued: it will be replayed/);
        expect(
          await instance.reader.read('held:item', 2, ['held']),
          'A drops its copy at once',
        ).to.deep.equal({ version: 2, loads: 2 });
      },
      recovered: () => instance.client.isReady,
      recoveredWithin: { ...RECOVERY_BOUNDS, message: "A's client is back" },
    });
    await bothListen();

    // Redis is back with version 1 (AOF), and the invalidation waits in A's queue.
    expect(await admin.exists(`${PREFIX}held:item`), 'Redis kept version 1 across the restart').to.equal(1);
    expect(
      await instance.reader.read('held:item', 3, ['held']),
      'A reads nothing from Redis while its queue waits',
    ).to.deep.equal({ version: 3, loads: 3 });
    expect(
      await b.read('held:item', 3, ['held']),
      'B reads version 1 from Redis, into its tier',
    ).to.deep.equal({ version: 1, loads: 0 });

    expect(await instance.cache.invalidate('elsewhere'), 'an invalidation gets through').to.equal(false);
    await eventually(() => instance.cache.stats().queuedInvalidations === 0, {
      ...RECOVERY_BOUNDS,
      message: "A's queue is replayed",
    });
    expect(await admin.exists(`${PREFIX}held:item`), 'the replay deleted version 1').to.equal(0);
    await eventually(async () => (await b.read('held:item', 4, ['held'])).version !== 1, {
      ...RECOVERY_BOUNDS,
      message: "B dropped version 1 from its tier on the replay's announcement",
    });
    expect(await b.read('held:item', 5, ['held'])).to.deep.equal({ version: 4, loads: 1 });
    // A reads from Redis again: what B stored there.
    expect(await instance.reader.read('held:item', 5, ['held'])).to.deep.equal({ version: 4, loads: 3 });
  });

  it("with queueOnFailure A resolves 'queued', replays on its own once Redis answers, and neither instance serves the old entry after", async () => {
    const instance = await startA({ invalidationQueue: { replayIntervalMs: 200 } });
    await bothHoldVersionOne(instance, 'timed:item', 'timed');
    await outage(instance, async () => {
      expect(await instance.cache.invalidateTags(['timed'], { queueOnFailure: true })).to.equal('queued');
    });

    expect(await admin.exists(`${PREFIX}timed:item`), 'the replay deleted version 1').to.equal(0);
    expect((await instance.reader.read('timed:item', 3, ['timed'])).version, 'A').to.equal(3);
    expect((await b.read('timed:item', 3, ['timed'])).version, 'B').to.equal(3);
  });

  it('with invalidationQueue: false, both serve the old entry again once Redis is back (the control)', async () => {
    const instance = await startA({ invalidationQueue: false });
    await bothHoldVersionOne(instance, 'lost:item', 'lost');
    await outage(instance, async () => {
      const error = await rejectionOf(instance.cache.invalidateTags(['lost'], { queueOnFailure: true }));
      expect(error).to.have.property('code', 'E_INVALIDATION_FAILED');
      expect((error as Error).message).to.not.match(/queued/);
    });

    expect((await instance.reader.read('lost:item', 3, ['lost'])).version, 'A').to.equal(1);
    expect((await b.read('lost:item', 3, ['lost'])).version, 'B').to.equal(1);
  });

  it('past invalidationQueue.maxSize, the invalidation is not queued: the call rejects, and only what was queued is replayed', async () => {
    const instance = await startA({ invalidationQueue: { maxSize: 1, replayIntervalMs: 200 } });
    const dropped: CacheEventMap['invalidation-dropped'][0][] = [];
    instance.cache.events.on('invalidation-dropped', (event) => dropped.push(event));
    await bothHoldVersionOne(instance, 'first:item', 'first');
    await bothHoldVersionOne(instance, 'second:item', 'second');
    await outage(instance, async () => {
      expect(await instance.cache.invalidateTags(['first'], { queueOnFailure: true })).to.equal('queued');
      const error = await rejectionOf(instance.cache.invalidateTags(['second'], { queueOnFailure: true }));
      expect(error).to.have.property('code', 'E_INVALIDATION_FAILED');
      expect((error as Error).message).to.match(/not queued: the invalidation queue is full/);
    });

    expect(dropped).to.deep.equal([{ kind: 'tag', reason: 'overflow', queueSize: 1 }]);
    expect((await instance.reader.read('first:item', 3, ['first'])).version, 'A, first').to.equal(3);
    expect((await b.read('first:item', 3, ['first'])).version, 'B, first').to.equal(3);
    // The invalidation that overflowed is lost: Redis still holds version 1, and both serve it.
    expect((await instance.reader.read('second:item', 3, ['second'])).version, 'A, second').to.equal(1);
    expect((await b.read('second:item', 3, ['second'])).version, 'B, second').to.equal(1);
  });
});

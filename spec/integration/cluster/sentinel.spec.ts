import { expect } from 'chai';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheOptions } from '../../../src/options.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import {
  type SentinelClient,
  startRedisSentinel,
  type TestRedisSentinel,
} from '../../support/redis-sentinel.js';
import { silentLogger } from '../../support/silent-logger.js';

describe('Cache over a node-redis Sentinel client (master, replica, one sentinel)', function () {
  this.timeout(90_000);
  let sentinel: TestRedisSentinel;
  let client: SentinelClient;
  const caches: Cache[] = [];

  function cacheOver(redis: SentinelClient, options: Partial<CacheOptions> = {}): Cache {
    const cache = createCache({ redis, prefix: 'sn:', registry: false, logger: silentLogger, ...options });
    caches.push(cache);
    return cache;
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    sentinel = await startRedisSentinel();
    client = await sentinel.connect();
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  after(async () => {
    await sentinel?.stop();
  });

  it('caches, reads many, and invalidates by key, tag and pattern through the sentinel-discovered master', async () => {
    // Not about timeouts: a busy machine's slow reply must not count as an error.
    const cache = cacheOver(client, { redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS });
    let loads = 0;
    const loader = async () => ({ loads: ++loads });
    await cache.get('user:1', loader, { tags: ['users'] });
    expect(await cache.get('user:1', loader)).to.deep.equal({ loads: 1 });
    expect(await sentinel.master.admin.exists('sn:user:1'), 'the entry is on the master').to.equal(1);
    await cache.set('user:2', { loads: 0 }, { tags: ['users'] });
    expect(await cache.getMany(['user:1', 'user:2'], async () => [])).to.deep.equal([
      { loads: 1 },
      { loads: 0 },
    ]);

    expect(await cache.invalidateTags(['users'])).to.equal(2);
    await cache.set('page:a', 'a');
    expect(await cache.invalidatePattern('page:*')).to.equal(1);
    await cache.set('page:b', 'b');
    expect(await cache.invalidate('page:b')).to.equal(true);
    // Nothing of the entries is left; only the cache's bookkeeping (the invalidation count and stamps).
    const left = await sentinel.master.admin.keys('sn:*');
    expect(left.filter((key) => !key.startsWith('sn:__ca:'))).to.deep.equal([]);
    expect(cache.stats().errors).to.equal(0);
  });

  it("carries invalidations between two instances' memory tiers over pub/sub on duplicate()", async () => {
    const memoryTier = { maxEntries: 100, maxBytes: 100_000, ttlMs: 60_000 };
    const patient = { memoryTier, redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS };
    const a = cacheOver(await sentinel.connect(), patient);
    const b = cacheOver(await sentinel.connect(), patient);
    const listening = async () => {
      const reply = (await sentinel.master.admin.pubSubNumSub('sn:__ca:invalidations')) as Record<
        string,
        number
      >;
      return reply['sn:__ca:invalidations'] === 2;
    };
    await eventually(listening, { timeoutMs: 15_000, intervalMs: 20, message: 'both instances listen' });
    let version = 1;
    // Stored by A's load, which announces nothing (a set is announced, and a read of B's that
    // crossed that announcement would not be kept in memory).
    await a.get('item:1', async () => ({ version }));
    expect(await b.get('item:1', async () => ({ version }))).to.deep.equal({ version: 1 });
    expect(b.stats().memoryEntries, 'B holds the entry in memory').to.equal(1);
    version = 2;
    await sentinel.master.admin.del('sn:item:1');
    expect(await b.get('item:1', async () => ({ version })), 'B answers from memory').to.deep.equal({
      version: 1,
    });

    await a.invalidate('item:1');

    // B's copy lives 60 s in memory: only the announcement can drop it before this deadline.
    await eventually(async () => (await b.get('item:1', async () => ({ version }))).version === 2, {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
  });

  it('keeps answering while the master is killed, and caches again once the sentinel promotes the replica', async () => {
    const cache = cacheOver(client);
    let loads = 0;
    const loader = async () => ({ loads: ++loads });
    await cache.get('steady', loader);
    const killedPort = sentinel.master.port;
    await sentinel.master.kill();

    await eventually(async () => (await sentinel.masterPort()) === sentinel.replica.port, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: 'the sentinel promoted the replica',
    });
    // Caching works again when a read right after another one runs no loader.
    const secondReadHits = async () => {
      await cache.get('steady', loader);
      const runs = loads;
      await cache.get('steady', loader);
      return loads === runs;
    };
    await eventually(secondReadHits, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: 'caching resumed on the promoted replica',
    });
    expect(await sentinel.replica.admin.exists('sn:steady')).to.equal(1);
    expect(killedPort).to.not.equal(sentinel.replica.port);
  });
});

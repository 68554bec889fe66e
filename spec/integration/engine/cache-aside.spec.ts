import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheOptions } from '../../../src/options.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';
import { type RunningRedisTarget, redisTargets, type TargetClient } from '../../support/redis-targets.js';
import { silentLogger } from '../../unit/engine/make-cache.js';

interface User {
  id: number;
  name: string;
}

/** The seed's MockDataStore: a slow source of truth that counts its reads. */
class SlowDataStore {
  reads = 0;
  readonly #latencyMs: number;
  readonly #users = new Map<string, User>([
    ['user:1', { id: 1, name: 'Alice' }],
    ['user:2', { id: 2, name: 'Bob' }],
  ]);

  constructor(latencyMs: number) {
    this.#latencyMs = latencyMs;
  }

  readonly get = async (key: string): Promise<User | null> => {
    this.reads++;
    await sleep(this.#latencyMs);
    return this.#users.get(key) ?? null;
  };

  async update(key: string, user: User): Promise<void> {
    await sleep(this.#latencyMs);
    this.#users.set(key, user);
  }
}

// Seed Part 2, sections 7, 8, 9, 11 and 12 (integration), against a real Redis.
// One suite, run against each Redis deployment (standalone and Cluster): see spec/support/redis-targets.ts.
for (const target of redisTargets()) {
  describe(`Cache over a real Redis (seed parity, ${target.name})`, () => {
    let redis: RunningRedisTarget;
    let client: TargetClient;
    const caches: Cache[] = [];

    function cacheOverRedis(options: Partial<CacheOptions> = {}): Cache {
      const cache = createCache({
        redis: client,
        prefix: 'test:',
        ttl: 60,
        registry: false,
        logger: silentLogger,
        ...options,
      });
      caches.push(cache);
      return cache;
    }

    before(async () => {
      redis = await target.start();
      client = redis.client;
    });

    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
      await redis.flushAll();
    });

    after(async () => {
      await redis?.stop();
    });

    describe('stampede prevention', () => {
      it('runs a slow loader once for 5 concurrent gets of a cold key, and every caller gets its value', async () => {
        const cache = cacheOverRedis();
        const source = new SlowDataStore(100);

        const values = await Promise.all(Array.from({ length: 5 }, () => cache.get('user:1', source.get)));

        expect(source.reads).to.equal(1);
        expect(values).to.deep.equal(Array.from({ length: 5 }, () => ({ id: 1, name: 'Alice' })));
        expect(cache.stats()).to.include({ misses: 5, loads: 1, coalesced: 4 });
      });
    });

    describe('invalidation consistency', () => {
      it('serves the updated value after update then invalidate', async () => {
        const cache = cacheOverRedis();
        const source = new SlowDataStore(10);
        expect((await cache.get('user:1', source.get))?.name).to.equal('Alice');

        await source.update('user:1', { id: 1, name: 'Alice Updated' });
        expect(await cache.invalidate('user:1')).to.equal(true);

        expect((await cache.get('user:1', source.get))?.name).to.equal('Alice Updated');
      });

      it('serves the stale value when the source changes without an invalidation (why invalidation matters)', async () => {
        const cache = cacheOverRedis();
        const source = new SlowDataStore(1);
        await cache.get('user:1', source.get);
        await source.update('user:1', { id: 1, name: 'Alice Updated' });
        expect((await cache.get('user:1', source.get))?.name).to.equal('Alice');
      });

      it('keeps tag invalidation working after a pattern invalidation that matches the tag index', async () => {
        const cache = cacheOverRedis();
        await cache.set('list', ['user:1', 'user:2'], { tags: ['item:1'] });
        expect(await cache.invalidatePattern('*:1')).to.equal(0);
        expect(await cache.invalidateTags(['item:1'])).to.equal(1);
        expect(await client.exists('test:list')).to.equal(0);
      });

      it('invalidates by pattern with SCAN, inside the prefix only', async () => {
        await client.set('other:user:1', 'foreign');
        const cache = cacheOverRedis();
        for (const key of ['user:1', 'user:2', 'product:1']) await cache.set(key, key);
        expect(await cache.invalidatePattern('user:*')).to.equal(2);
        expect(
          await client.exists(['test:user:1', 'test:user:2', 'test:product:1', 'other:user:1']),
        ).to.equal(2);
      });
    });

    describe('TTL expiration', () => {
      it('lets Redis expire the entry after its ttl', async () => {
        const cache = cacheOverRedis({ ttl: 1 });
        const source = new SlowDataStore(1);
        await cache.get('user:1', source.get, { ttl: 1 });
        const storedAt = Date.now();
        expect(await client.exists('test:user:1')).to.equal(1);
        expect(await client.pTTL('test:user:1')).to.be.within(1, 1_000);

        let goneAfterMs: number | undefined;
        while (Date.now() - storedAt < 3_000) {
          if ((await client.exists('test:user:1')) === 0) {
            goneAfterMs = Date.now() - storedAt;
            break;
          }
          await sleep(50);
        }
        expect(goneAfterMs, 'the entry never expired').to.not.equal(undefined);
        expect(goneAfterMs).to.be.within(800, 2_000);
      });

      it('reports and changes the remaining lifetime with ttl() and expire()', async () => {
        const cache = cacheOverRedis();
        await cache.set('user:1', { id: 1 });
        expect(await cache.ttl('user:1')).to.be.within(59, 60);
        expect(await cache.expire('user:1', 120)).to.equal(true);
        expect(await cache.ttl('user:1')).to.be.within(119, 120);
        expect(await cache.ttl('user:999')).to.equal(-2);
        expect(await cache.expire('user:999', 120)).to.equal(false);
      });
    });

    describe('performance', () => {
      it('serves the second get from Redis without the loader, far faster than the miss', async () => {
        const cache = cacheOverRedis();
        const source = new SlowDataStore(100);

        let startedAt = performance.now();
        await cache.get('user:1', source.get);
        const missMs = performance.now() - startedAt;

        // A second cache instance has no in-process state: its hit can only come from Redis.
        const otherInstance = cacheOverRedis();
        startedAt = performance.now();
        const value = await otherInstance.get('user:1', source.get);
        const hitMs = performance.now() - startedAt;

        expect(value).to.deep.equal({ id: 1, name: 'Alice' });
        expect(source.reads).to.equal(1);
        expect(otherInstance.stats()).to.include({ hits: 1, misses: 0 });
        expect(hitMs).to.be.below(missMs / 10);
      });
    });

    describe('async loaders', () => {
      it('loads once, then answers from the cache (seed: test_async_cache_with_real_redis)', async () => {
        const cache = cacheOverRedis();
        let calls = 0;
        const loader = async () => {
          calls++;
          await sleep(10);
          return { id: 1, name: 'Alice' };
        };
        expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(calls).to.equal(1);
        expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(calls).to.equal(1);
      });

      it('answers concurrent requests with one load (seed: test_async_concurrent_requests)', async () => {
        const cache = cacheOverRedis();
        let calls = 0;
        const loader = async () => {
          calls++;
          await sleep(100);
          return { id: 1 };
        };
        const results = await Promise.all([
          cache.get('user:1', loader),
          cache.get('user:1', loader),
          cache.get('user:1', loader),
        ]);
        expect(results).to.deep.equal([{ id: 1 }, { id: 1 }, { id: 1 }]);
        expect(calls).to.equal(1);
      });
    });

    describe('values and entries', () => {
      it('round-trips binary values with msgpack through Redis', async () => {
        const cache = cacheOverRedis({ serializer: msgpackSerializer });
        const bytes = Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a]);
        await cache.set('blob', { bytes });
        const reader = cacheOverRedis({ serializer: msgpackSerializer });
        const read = await reader.get('blob', (): { bytes: Uint8Array } => ({ bytes: Buffer.alloc(0) }));
        expect(Buffer.from(read.bytes).equals(bytes)).to.equal(true);
      });

      it('overwrites a value another client wrote that is not a cache entry', async () => {
        await client.set('test:user:1', 'invalid json');
        const cache = cacheOverRedis();
        const source = new SlowDataStore(1);
        expect(await cache.get('user:1', source.get)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(cache.stats()).to.include({ misses: 1, errors: 1 });
        expect(await cache.get('user:1', source.get)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(source.reads).to.equal(1);
      });

      it('reads many keys and loads only the missing ones', async () => {
        const cache = cacheOverRedis();
        await cache.set('user:2', { id: 2, name: 'Bob (cached)' });
        let requested: string[] = [];
        const values = await cache.getMany(['user:1', 'user:2'], async (keys) => {
          requested = keys;
          return keys.map((key) => ({ id: Number(key.split(':')[1]), name: 'loaded' }));
        });
        expect(requested).to.deep.equal(['user:1']);
        expect(values).to.deep.equal([
          { id: 1, name: 'loaded' },
          { id: 2, name: 'Bob (cached)' },
        ]);
      });

      it('does not store null from the loader', async () => {
        const cache = cacheOverRedis();
        expect(await cache.get('user:999', async () => null)).to.equal(null);
        expect(await client.exists('test:user:999')).to.equal(0);
      });
    });
  });
}

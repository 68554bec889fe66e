import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheOptions } from '../../../src/options.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';
import { countingLoader } from '../../support/counting-loader.js';
import { useRedisTarget } from '../../support/redis-target-fixture.js';
import { redisTargets, type TargetClient } from '../../support/redis-targets.js';

interface User {
  id: number;
  name: string;
}

/** A slow source of truth (a database, say) that counts its reads. */
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

// The cache-aside behaviour end to end, against a real Redis.
// One suite, run against each Redis deployment (standalone and Cluster): see spec/support/redis-targets.ts.
for (const target of redisTargets()) {
  describe(`Cache over a real Redis (${target.name})`, () => {
    const fixture = useRedisTarget(target, { prefix: 'test:', ttl: 60 });
    let client: TargetClient;

    function cacheOverRedis(options: Partial<CacheOptions> = {}): Cache {
      return fixture.cacheOver(client, options);
    }

    before(() => {
      client = fixture.redis.client;
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
        const TTL_MS = 1_000;
        const cache = cacheOverRedis({ ttl: 1 });
        const source = new SlowDataStore(1);
        // Redis wrote the entry somewhere between these two instants.
        const writeBeganAt = Date.now();
        await cache.get('user:1', source.get, { ttl: 1 });
        const writeEndedAt = Date.now();
        expect(await client.exists('test:user:1')).to.equal(1);
        expect(await client.pTTL('test:user:1')).to.be.within(1, TTL_MS);

        // Each check runs somewhere between its start and its end: one that still finds the entry
        // started before it expired, one that finds it gone ended after. The deadline bounds a hang.
        const checks: { startedAt: number; endedAt: number; present: boolean }[] = [];
        while (checks.at(-1)?.present !== false && Date.now() - writeEndedAt < 30_000) {
          const startedAt = Date.now();
          const present = (await client.exists('test:user:1')) === 1;
          checks.push({ startedAt, endedAt: Date.now(), present });
          if (present) await sleep(20);
        }
        const gone = checks.at(-1);
        expect(gone?.present, 'the entry expired').to.equal(false);
        // 1 ms: Redis and Date.now() round to the millisecond on their own.
        expect(gone?.endedAt, 'not before its ttl').to.be.at.least(writeBeganAt + TTL_MS - 1);
        const lastSeen = checks.filter((check) => check.present).at(-1);
        expect(lastSeen?.startedAt ?? writeEndedAt, 'not kept past its ttl').to.be.below(
          writeEndedAt + TTL_MS + 1,
        );
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
        const SOURCE_MS = 100;
        const ROUNDS = 7;
        const cache = cacheOverRedis();
        const source = new SlowDataStore(SOURCE_MS);
        const timed = async <T>(task: () => Promise<T>): Promise<number> => {
          const startedAt = performance.now();
          await task();
          return performance.now() - startedAt;
        };
        const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

        const missMs = await timed(() => cache.get('user:1', source.get));

        // Hits through new cache instances (no in-process state: a hit can only come from Redis),
        // each next to a plain GET of the same key on the same machine at the same moment: the
        // baseline a hit is measured against, as a busy machine slows both alike.
        const hitMs: number[] = [];
        const plainGetMs: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const otherInstance = cacheOverRedis();
          hitMs.push(await timed(() => otherInstance.get('user:1', source.get)));
          plainGetMs.push(await timed(() => client.get('test:user:1')));
          expect(otherInstance.stats()).to.include({ hits: 1, misses: 0 });
        }

        expect(source.reads, 'the hits ran no loader').to.equal(1);
        expect(missMs, 'the miss waited for the source').to.be.at.least(SOURCE_MS - 1);
        expect(median(hitMs), 'a hit costs about one Redis round trip').to.be.below(
          3 * median(plainGetMs) + 5,
        );
        // The miss took the source's 100 ms on top of its round trips; a hit is one round trip.
        expect(median(hitMs), 'far faster than the miss').to.be.below(missMs / 2);
      });
    });

    describe('async loaders', () => {
      it('loads once, then answers from the cache', async () => {
        const cache = cacheOverRedis();
        const loader = countingLoader(async () => {
          await sleep(10);
          return { id: 1, name: 'Alice' };
        });
        expect(await cache.get('user:1', loader.load)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(loader.calls).to.equal(1);
        expect(await cache.get('user:1', loader.load)).to.deep.equal({ id: 1, name: 'Alice' });
        expect(loader.calls).to.equal(1);
      });

      it('answers concurrent requests with one load', async () => {
        const cache = cacheOverRedis();
        const loader = countingLoader(async () => {
          await sleep(100);
          return { id: 1 };
        });
        const results = await Promise.all([
          cache.get('user:1', loader.load),
          cache.get('user:1', loader.load),
          cache.get('user:1', loader.load),
        ]);
        expect(results).to.deep.equal([{ id: 1 }, { id: 1 }, { id: 1 }]);
        expect(loader.calls).to.equal(1);
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

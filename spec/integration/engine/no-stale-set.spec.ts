import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { Cache, CacheOptions, RefusedWriteReason } from '../../../src/index.js';
import { GatedSource } from '../../support/gated-source.js';
import { useRedisTarget } from '../../support/redis-target-fixture.js';
import { redisTargets } from '../../support/redis-targets.js';

type Versioned = { version: number };

/** Ways an application acknowledges a change of product 1 (tagged `products`) to the cache. */
const INVALIDATIONS: [string, (cache: Cache, source: GatedSource) => Promise<unknown>][] = [
  ['invalidate', (cache) => cache.invalidate('product:1')],
  ['invalidateTags', (cache) => cache.invalidateTags(['products'])],
  ['invalidatePattern', (cache) => cache.invalidatePattern('product:*')],
  ['expire', (cache) => cache.expire('product:1', 0)],
  ['set', (cache, source) => cache.set('product:1', { version: source.version }, { tags: ['products'] })],
];

// The cache-aside "stale set" race, replayed step by step against a real Redis: a load reads version
// 1 of its source and is held; the application writes version 2 and its invalidation is acknowledged;
// then the load goes on to store what it read. Whatever instance reads after the acknowledgement must
// get version 2, while the call that ran the load still gets its own result.
for (const target of redisTargets()) {
  describe(`No stale set after an acknowledged invalidation (${target.name})`, function () {
    this.timeout(30_000);
    const fixture = useRedisTarget(target, { prefix: 'ss:', ttl: 60 });

    async function makeCache(options: Partial<CacheOptions> = {}): Promise<Cache> {
      return fixture.cacheOver(await fixture.redis.connect(), options);
    }

    /** The reasons of the cache's refused writes, as they happen. */
    function refusalsOf(cache: Cache): RefusedWriteReason[] {
      const reasons: RefusedWriteReason[] = [];
      cache.events.on('write-refused', ({ reason }) => reasons.push(reason));
      return reasons;
    }

    for (const [name, acknowledge] of INVALIDATIONS) {
      it(`get: a load that read before ${name} does not store its result after it`, async () => {
        const source = new GatedSource();
        const cache = await makeCache();
        const other = await makeCache({ memoryTier: { ttlMs: 60_000 } });
        const refusals = refusalsOf(cache);
        const loader = async (): Promise<Versioned> => ({ version: await source.read() });
        const options = { tags: ['products'] };

        const held = source.holdNextRead();
        const loading = cache.get('product:1', loader, options);
        await source.writeWhileHeld(held, () => acknowledge(cache, source));

        expect(await loading, 'the call that ran the load gets what it read').to.deep.equal({ version: 1 });
        expect(refusals).to.deep.equal(['invalidated']);
        expect(await cache.get('product:1', loader, options)).to.deep.equal({ version: 2 });
        expect(await other.get('product:1', loader, options), 'another instance').to.deep.equal({
          version: 2,
        });
      });
    }

    it('get: a load that read after the invalidation stores its result as usual', async () => {
      const source = new GatedSource();
      const cache = await makeCache();
      const refusals = refusalsOf(cache);
      const loader = async (): Promise<Versioned> => ({ version: await source.read() });
      source.write();
      await cache.invalidateTags(['products']);

      expect(await cache.get('product:1', loader, { tags: ['products'] })).to.deep.equal({ version: 2 });
      expect(await cache.get('product:1', loader, { tags: ['products'] })).to.deep.equal({ version: 2 });
      expect(source.reads, 'the second get was a hit').to.equal(1);
      expect(refusals).to.deep.equal([]);
    });

    it('getMany: values loaded before an invalidation of their tag are not stored after it', async () => {
      const source = new GatedSource();
      const cache = await makeCache();
      const refusals = refusalsOf(cache);
      const loader = async (keys: string[]): Promise<Versioned[]> => {
        const version = await source.read();
        return keys.map(() => ({ version }));
      };
      const keys = ['product:1', 'product:2'];

      const held = source.holdNextRead();
      const loading = cache.getMany(keys, loader, { tags: ['products'] });
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));

      expect(await loading).to.deep.equal([{ version: 1 }, { version: 1 }]);
      expect(refusals).to.deep.equal(['invalidated', 'invalidated']);
      expect(await cache.getMany(keys, loader, { tags: ['products'] })).to.deep.equal([
        { version: 2 },
        { version: 2 },
      ]);
    });

    /** Stores version 1 fresh for 50 ms, then waits until it is stale (kept 60 s more). */
    async function staleEntry(cache: Cache, source: GatedSource): Promise<void> {
      const loader = async (): Promise<Versioned> => ({ version: await source.read() });
      await cache.get('product:1', loader, { tags: ['products'], ttl: 0.05, staleTtl: 60 });
      await sleep(100);
    }

    it('background refresh: a refresh that read before an invalidation does not store after it', async () => {
      const source = new GatedSource();
      const cache = await makeCache({ staleTtl: 60 });
      const refusals = refusalsOf(cache);
      const loader = async (): Promise<Versioned> => ({ version: await source.read() });
      await staleEntry(cache, source);

      const held = source.holdNextRead();
      const served = await cache.lookup('product:1', loader, { tags: ['products'] });
      expect(served).to.deep.include({ result: 'stale', value: { version: 1 } });
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));
      // close() waits for the background refresh to end.
      await cache.close();

      expect(refusals).to.deep.equal(['invalidated']);
      const reader = await makeCache();
      expect(await reader.get('product:1', loader, { tags: ['products'] })).to.deep.equal({ version: 2 });
    });

    it('stale-if-error: the load that a stale entry waits on does not store what it read before an invalidation', async () => {
      const source = new GatedSource();
      const cache = await makeCache({ staleTtl: 60, staleWhileRevalidate: false });
      const refusals = refusalsOf(cache);
      const loader = async (): Promise<Versioned> => ({ version: await source.read() });
      await staleEntry(cache, source);

      const held = source.holdNextRead();
      const loading = cache.lookup('product:1', loader, { tags: ['products'] });
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));

      expect(await loading).to.deep.include({ result: 'miss', value: { version: 1 } });
      expect(refusals).to.deep.equal(['invalidated']);
      expect(await cache.get('product:1', loader, { tags: ['products'] })).to.deep.equal({ version: 2 });
    });
  });
}

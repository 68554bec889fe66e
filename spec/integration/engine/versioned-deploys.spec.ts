import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { type Cache, type CacheOptions, responseCache, responseCacheKey } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { GatedSource } from '../../support/gated-source.js';
import { useRedisTarget } from '../../support/redis-target-fixture.js';
import { redisTargets } from '../../support/redis-targets.js';
import { served } from '../../support/served.js';

// A rolling deploy: instances of two releases share one Redis (and one prefix) for a while. Each
// release reads only its own entries; the application's invalidations reach every release's.
for (const target of redisTargets()) {
  describe(`Versioned deploys over a real Redis (${target.name})`, function () {
    this.timeout(30_000);
    const fixture = useRedisTarget(target, { prefix: 'deploy:', ttl: 60 });

    async function release(version: string | undefined, options: Partial<CacheOptions> = {}): Promise<Cache> {
      const client = await fixture.redis.connect();
      return fixture.cacheOver(client, version === undefined ? options : { version, ...options });
    }

    /** What `cache` serves for `key`: its entry, or `loaded` (then stored) when it has none. */
    const read = (cache: Cache, key: string, loaded = 'loaded') => cache.get(key, () => loaded);

    it('never serves one version the entry another version wrote, nor an unversioned one', async () => {
      const [v1, v2, unversioned] = [
        await release('1.0.0'),
        await release('1.1.0'),
        await release(undefined),
      ];
      await v1.set('item:1', 'written by 1.0.0');

      expect(await read(v2, 'item:1', 'loaded by 1.1.0')).to.equal('loaded by 1.1.0');
      expect(await read(unversioned, 'item:1', 'loaded unversioned')).to.equal('loaded unversioned');
      expect(await read(v1, 'item:1')).to.equal('written by 1.0.0');
      expect(await read(v2, 'item:1')).to.equal('loaded by 1.1.0');
      expect(v1.entryKey('item:1')).to.not.equal(v2.entryKey('item:1'));
      expect(await fixture.redis.client.get(v1.entryKey('item:1'))).to.not.equal(null);
    });

    it('shares the stampede lock of a key only within one version', async () => {
      // Patient locks: a version that waited for the other's would wait for the whole test.
      const locks = { lockTtlMs: 60_000, lockWaitMs: 60_000 };
      const [v1, v2] = [await release('1.0.0', locks), await release('1.1.0', locks)];
      const source = new GatedSource();
      const held = source.holdNextRead();
      const loading = v1.get('item:1', async () => `v1 read ${await source.read()}`);
      await held.taken;
      // 1.0.0 holds its lock while it loads (until after this): 1.1.0 loads for itself meanwhile.
      const patience = new AbortController();
      const outcome = await Promise.race([
        read(v2, 'item:1', 'loaded by 1.1.0'),
        sleep(10_000, "waited for 1.0.0's lock", { signal: patience.signal }),
      ]);
      patience.abort();
      held.release();
      expect(outcome).to.equal('loaded by 1.1.0');
      expect(await loading).to.equal('v1 read 1');
    });

    it('invalidateTags deletes the tagged entries of every version', async () => {
      const [v1, v2] = [await release('1.0.0'), await release('1.1.0')];
      await v1.set('item:1', 'one', { tags: ['items'] });
      await v2.set('item:1', 'one', { tags: ['items'] });
      await v2.set('item:2', 'two', { tags: ['items'] });

      expect(await v1.invalidateTags(['items'])).to.equal(3);
      expect(await read(v1, 'item:1')).to.equal('loaded');
      expect(await read(v2, 'item:2')).to.equal('loaded');
    });

    it('invalidate deletes the key in every version, and only in its own with allVersions: false', async () => {
      const [v1, v2, v3] = [await release('1.0.0'), await release('1.1.0'), await release('1.2.0')];
      for (const cache of [v1, v2, v3]) {
        await cache.set('item:1', `item 1 of ${cache.version}`);
        await cache.set('item:2', `item 2 of ${cache.version}`);
      }

      expect(await v2.invalidate('item:1', { allVersions: false })).to.equal(true);
      expect(await read(v2, 'item:1')).to.equal('loaded');
      expect(await read(v1, 'item:1')).to.equal('item 1 of 1.0.0');

      expect(await v1.invalidate('item:1')).to.equal(true);
      for (const cache of [v1, v3]) expect(await read(cache, 'item:1', 'reloaded')).to.equal('reloaded');
      // v2 had loaded it again after its own invalidation: that entry went too.
      expect(await read(v2, 'item:1', 'reloaded')).to.equal('reloaded');
      for (const cache of [v1, v2, v3]) {
        expect(await read(cache, 'item:2')).to.equal(`item 2 of ${cache.version}`);
      }
      expect(await v1.invalidate('item:3')).to.equal(false);
    });

    it('invalidatePattern deletes the matching entries of every version, and only its own with allVersions: false', async () => {
      const [v1, v2, unversioned] = [
        await release('1.0.0'),
        await release('1.1.0'),
        await release(undefined),
      ];
      for (const cache of [v1, v2, unversioned]) {
        await cache.set('user:1', 'user');
        // Ends like the pattern, and no key of any version matches it from its start.
        await cache.set('x:user:1', 'not a user');
      }

      expect(await v1.invalidatePattern('user:*', { allVersions: false })).to.equal(1);
      expect(await read(v1, 'user:1', 'reloaded')).to.equal('reloaded');
      expect(await read(v2, 'user:1')).to.equal('user');

      expect(await v2.invalidatePattern('user:*')).to.equal(2);
      for (const cache of [v1, v2]) {
        expect(await read(cache, 'user:1')).to.equal('loaded');
        expect(await read(cache, 'x:user:1')).to.equal('not a user');
      }
      // Unversioned entries are another key space: a versioned cache's patterns do not reach them.
      expect(await read(unversioned, 'user:1')).to.equal('user');
      expect(await v2.invalidatePattern('*')).to.equal(4);
      expect(await read(unversioned, 'x:user:1')).to.equal('not a user');
    });

    it("refuses the write of a load under way in one version after another version's invalidate", async () => {
      const [v1, v2] = [await release('1.0.0'), await release('1.1.0')];
      const source = new GatedSource();
      const refusals: string[] = [];
      v2.events.on('write-refused', ({ reason }) => refusals.push(reason));
      const loader = async () => ({ version: await source.read() });

      const held = source.holdNextRead();
      const loading = v2.get('product:1', loader);
      await source.writeWhileHeld(held, () => v1.invalidate('product:1'));

      expect(await loading, 'the call that ran the load gets what it read').to.deep.equal({ version: 1 });
      expect(refusals).to.deep.equal(['invalidated']);
      expect(await v2.get('product:1', loader)).to.deep.equal({ version: 2 });
    });

    it("drops another version's in-process copy of a key invalidated in every version", async () => {
      const tier = { memoryTier: { ttlMs: 60_000 } };
      const [v1, v2] = [await release('1.0.0', tier), await release('1.1.0', tier)];
      expect(await read(v2, 'item:1', 'first')).to.equal('first');
      // Each try invalidates again: the announcement may come before v2 has subscribed. Without
      // it, v2's tier would serve 'first' for a minute.
      await eventually(async () => {
        await v1.invalidate('item:1');
        return (await read(v2, 'item:1', 'second')) === 'second';
      });
    });

    it('responseCache replays only the responses its own version stored; invalidate reaches both', async () => {
      const calls = { '1.0.0': 0, '1.1.0': 0 };
      const appOf = (cache: Cache) => {
        const version = cache.version as keyof typeof calls;
        const app = express();
        app.get('/api/items/:id', responseCache(cache), (req, res) => {
          calls[version]++;
          res.json({ id: req.params.id, release: version });
        });
        return app;
      };
      const [v1, v2] = [await release('1.0.0'), await release('1.1.0')];
      const [server1, server2] = [await served(appOf(v1)), await served(appOf(v2))];
      const get = async (server: typeof server1) => {
        // The entry is written after the response went out: wait until the next request can see it.
        const response = await request(server).get('/api/items/1').set('Host', 'shop.test');
        return { cache: response.headers['x-cache'], release: response.body.release };
      };
      const key = responseCacheKey('http://shop.test/api/items/1');
      const storedIn = async (cache: Cache) => (await fixture.redis.client.exists(cache.entryKey(key))) === 1;

      expect(await get(server1)).to.deep.equal({ cache: 'MISS', release: '1.0.0' });
      await eventually(() => storedIn(v1));
      expect(await get(server2)).to.deep.equal({ cache: 'MISS', release: '1.1.0' });
      await eventually(() => storedIn(v2));
      expect(await get(server1)).to.deep.equal({ cache: 'HIT', release: '1.0.0' });
      expect(await get(server2)).to.deep.equal({ cache: 'HIT', release: '1.1.0' });
      expect(calls).to.deep.equal({ '1.0.0': 1, '1.1.0': 1 });

      expect(await v2.invalidate(key)).to.equal(true);
      expect(await storedIn(v1)).to.equal(false);
      expect(await storedIn(v2)).to.equal(false);
    });
  });
}

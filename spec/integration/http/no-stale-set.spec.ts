import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { type Cache, type CacheOptions, type RefusedWriteReason, responseCache } from '../../../src/index.js';
import { GatedSource } from '../../support/gated-source.js';
import { useRedisTarget } from '../../support/redis-target-fixture.js';
import { redisTargets } from '../../support/redis-targets.js';
import { served } from '../../support/served.js';

// The "stale set" race through the middleware, against a real Redis: a request runs the handler, which
// reads version 1 and is held; the application writes version 2 and its tag invalidation is
// acknowledged; then the handler answers. That request gets version 1, as it read it; every request
// after the acknowledgement gets version 2.
for (const target of redisTargets()) {
  describe(`responseCache: no stale set after an acknowledged invalidation (${target.name})`, function () {
    this.timeout(30_000);
    const fixture = useRedisTarget(target, { prefix: 'ssh:' });

    /** An app whose route stores responses fresh for `ttl` seconds, tagged `products`. */
    async function appOver(
      source: GatedSource,
      options: Partial<CacheOptions> = {},
      ttl = 60,
    ): Promise<{ cache: Cache; app: express.Express; refusals: RefusedWriteReason[] }> {
      const cache = fixture.cacheOver(await fixture.redis.connect(), options);
      const refusals: RefusedWriteReason[] = [];
      cache.events.on('write-refused', ({ reason }) => refusals.push(reason));
      const app = express();
      app.get('/products/:id', responseCache(cache, { ttl, tags: ['products'] }), async (_req, res) => {
        res.json({ version: await source.read() });
      });
      return { cache, app, refusals };
    }

    it('a miss whose handler read before the invalidation is answered, not stored', async () => {
      const source = new GatedSource();
      const { cache, app, refusals } = await appOver(source);
      const server = await served(app);

      const held = source.holdNextRead();
      const missing = request(server).get('/products/1');
      const answered = missing.then((response) => response);
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));

      const first = await answered;
      expect([first.headers['x-cache'], first.body]).to.deep.equal(['MISS', { version: 1 }]);
      const after = await request(server).get('/products/1');
      expect([after.headers['x-cache'], after.body]).to.deep.equal(['MISS', { version: 2 }]);
      // The first response went out before its write was tried (on a Cluster, two round trips later).
      for (let attempt = 0; attempt < 500 && refusals.length === 0; attempt++) await sleep(10);
      expect(refusals).to.deep.equal(['invalidated']);
      // Version 2 is stored once its response went out (on a Cluster, two round trips later): every
      // request until then, and the hit after, answers version 2.
      const answers: unknown[] = [];
      for (let attempt = 0; attempt < 100 && !answers.includes('HIT'); attempt++) {
        const again = await request(server).get('/products/1');
        expect(again.body).to.deep.equal({ version: 2 });
        answers.push(again.headers['x-cache']);
        await sleep(10);
      }
      expect(answers).to.include('HIT');
    });

    it('stale-if-error: the handler run for the client, held against the stale entry, stores nothing it read before the invalidation', async () => {
      const source = new GatedSource();
      const { cache, app, refusals } = await appOver(
        source,
        { staleTtl: 60, staleWhileRevalidate: false },
        0.05,
      );
      const server = await served(app);
      expect((await request(server).get('/products/1')).body).to.deep.equal({ version: 1 });
      await sleep(100);

      const held = source.holdNextRead();
      const answered = request(server)
        .get('/products/1')
        .then((response) => response);
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));

      // The request revalidated the stale entry (its ETag): the handler read version 1, the same as
      // stored, so Express answered 304 and the client got the stored version 1; renewing the entry
      // under the load's lease was refused, the invalidation having come after the load began.
      const first = await answered;
      expect([first.headers['x-cache'], first.body]).to.deep.equal(['HIT', { version: 1 }]);
      expect(first.headers['cache-status']).to.include('fwd=stale; fwd-status=304');
      for (let attempt = 0; attempt < 500 && refusals.length === 0; attempt++) await sleep(10);
      expect(refusals).to.deep.equal(['invalidated']);
      const after = await request(server).get('/products/1');
      expect([after.headers['x-cache'], after.body]).to.deep.equal(['MISS', { version: 2 }]);
    });

    it('a background refresh whose handler read before the invalidation stores nothing', async () => {
      const source = new GatedSource();
      // Fresh for 50 ms, then stale for a minute: a stale entry is served at once while one refresh runs.
      const { cache, app, refusals } = await appOver(source, { staleTtl: 60 }, 0.05);
      const server = await served(app);
      const seeded = await request(server).get('/products/1');
      expect(seeded.body).to.deep.equal({ version: 1 });
      await sleep(100);

      const held = source.holdNextRead();
      const stale = await request(server).get('/products/1');
      expect([stale.headers['x-cache'], stale.body]).to.deep.equal(['STALE', { version: 1 }]);
      await source.writeWhileHeld(held, () => cache.invalidateTags(['products']));
      // close() waits for the background refresh to end.
      await cache.close();

      expect(refusals).to.deep.equal(['invalidated']);
      const reader = await appOver(source);
      const after = await request(await served(reader.app)).get('/products/1');
      expect([after.headers['x-cache'], after.body]).to.deep.equal(['MISS', { version: 2 }]);
    });
  });
}

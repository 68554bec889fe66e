import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { addCacheTags, type ResponseCacheOptions, responseCache } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import {
  appWithTaggedItems,
  createTestCache,
  fakeDateInEachTest,
  getFrom,
  xCacheOf,
} from './http-spec-helpers.js';

describe('responseCache freshness and tags', () => {
  const clock = fakeDateInEachTest();

  /**
   * Stores `path` from a fixture app over a cache whose own ttl is `cacheTtlSeconds`, then moves the
   * clock by each of `ticksMs` in turn and gives the `X-Cache` of a GET after each.
   */
  async function xCacheAfterTicks(
    cacheTtlSeconds: number,
    cacheOptions: ResponseCacheOptions,
    path: string,
    ticksMs: number[],
  ): Promise<unknown[]> {
    const { cache } = createTestCache({ ttl: cacheTtlSeconds });
    const fixture = createFixtureApp({ cache, cacheOptions });
    await getFrom(fixture.app, path);
    const seen: unknown[] = [];
    for (const tickMs of ticksMs) {
      clock.tick(tickMs);
      seen.push(await xCacheOf(fixture.app, path));
    }
    return seen;
  }

  it('keeps a response for the route’s ttl, in seconds', async () => {
    const seen = await xCacheAfterTicks(600, { ttl: 5 }, '/api/json', [4_900, 200]);
    expect(seen).to.deep.equal(['HIT', 'MISS']);
  });

  it('falls back to the cache’s ttl', async () => {
    expect(await xCacheAfterTicks(2, {}, '/api/json', [2_100])).to.deep.equal(['MISS']);
  });

  it('takes the ttl from a function of the request and the response', async () => {
    const { cache } = createTestCache({ ttl: 600 });
    const ttl = sinon.spy((req: express.Request, res: express.Response) =>
      req.params.id === 'short' && res.statusCode === 200 ? 1 : undefined,
    );
    const fixture = createFixtureApp({ cache, routeOptions: { item: { ttl } } });
    await getFrom(fixture.app, '/api/items/short');
    await getFrom(fixture.app, '/api/items/long');
    clock.tick(1_500);
    expect(await xCacheOf(fixture.app, '/api/items/short')).to.equal('MISS');
    expect(await xCacheOf(fixture.app, '/api/items/long')).to.equal('HIT');
    expect(ttl.callCount).to.equal(3);
  });

  it('stores nothing when the ttl is 0', async () => {
    const { cache, store, requests } = createTestCache();
    const fixture = createFixtureApp({ cache, cacheOptions: { ttl: () => 0 } });
    await getFrom(fixture.app, '/api/json');
    expect(store.writes).to.have.length(0);
    expect(requests[0]?.reason).to.equal('zero-ttl');
  });

  describe('ttlFromCacheControl', () => {
    const cases: [string, number][] = [
      ['public, s-maxage=3, max-age=30', 3],
      ['public, max-age=3', 3],
      ['public, max-age="3"', 3],
    ];
    for (const [cacheControl, expectedSeconds] of cases) {
      it(`keeps "${cacheControl}" for ${expectedSeconds} s`, async () => {
        const path = `/api/max-age?cc=${encodeURIComponent(cacheControl)}`;
        const ticksMs = [expectedSeconds * 1000 - 100, 200];
        const seen = await xCacheAfterTicks(600, { ttlFromCacheControl: true }, path, ticksMs);
        expect(seen).to.deep.equal(['HIT', 'MISS']);
      });
    }

    it('stores nothing for max-age=0 or an invalid max-age', async () => {
      const { cache, store } = createTestCache();
      const fixture = createFixtureApp({ cache, cacheOptions: { ttlFromCacheControl: true } });
      await getFrom(fixture.app, '/api/max-age?cc=max-age%3D0');
      await getFrom(fixture.app, '/api/max-age?cc=max-age%3Dsoon');
      expect(store.writes).to.have.length(0);
    });

    it('uses the route ttl for responses without max-age', async () => {
      const seen = await xCacheAfterTicks(600, { ttlFromCacheControl: true, ttl: 1 }, '/api/json', [1_100]);
      expect(seen).to.deep.equal(['MISS']);
    });

    it('ignores max-age when not asked to', async () => {
      expect(await xCacheAfterTicks(600, {}, '/api/max-age?cc=max-age%3D1', [1_100])).to.deep.equal(['HIT']);
    });
  });

  it('invalidates by the route’s tags and by the tags the handler added', async () => {
    const { cache } = createTestCache();
    const fixture = await appWithTaggedItems(cache);
    expect(await cache.invalidateTags(['item:1'])).to.equal(1);
    expect(await xCacheOf(fixture.app, '/api/items/1')).to.equal('MISS');
    expect(await xCacheOf(fixture.app, '/api/items/2')).to.equal('HIT');
    // `items` was added by the handler with addCacheTags.
    expect(await cache.invalidateTags(['items'])).to.equal(2);
    expect(await xCacheOf(fixture.app, '/api/items/2')).to.equal('MISS');
  });

  it('accepts a fixed list of tags', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache, routeOptions: { json: { tags: ['greetings'] } } });
    await getFrom(fixture.app, '/api/json');
    expect(await cache.invalidateTags(['greetings'])).to.equal(1);
  });

  it('rejects invalid tags from a handler', () => {
    const res = {} as express.Response;
    expect(() => addCacheTags(res, '')).to.throw(TypeError);
  });

  it('sends the response but stores nothing when a ttl or tags function misbehaves', async () => {
    const { cache, store } = createTestCache();
    const failures: unknown[] = [];
    cache.events.on('load', (event) => event.failed && failures.push(event.error));
    const app = express();
    app.get('/bad-ttl', responseCache(cache, { ttl: () => -1 }), (_req, res) => res.send('a'));
    app.get('/bad-tags', responseCache(cache, { tags: () => [''] }), (_req, res) => res.send('b'));
    app.get(
      '/throws',
      responseCache(cache, {
        ttl: () => {
          throw new Error('bug');
        },
      }),
      (_req, res) => res.send('c'),
    );
    expect((await getFrom(app, '/bad-ttl')).text).to.equal('a');
    expect((await getFrom(app, '/bad-tags')).text).to.equal('b');
    expect((await getFrom(app, '/throws')).text).to.equal('c');
    expect(store.writes).to.have.length(0);
    expect(failures).to.have.length(3);
    expect(failures[0]).to.be.instanceOf(TypeError);
  });

  it('serves a stale entry as STALE and refreshes it in the background', async () => {
    const { cache, store, requests } = createTestCache({ ttl: 1, staleTtl: 60 });
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/json');
    clock.tick(1_500);
    const stale = await getFrom(fixture.app, '/api/json');
    expect(stale.headers['x-cache']).to.equal('STALE');
    expect(stale.headers.age).to.equal('1');
    expect(stale.body.call).to.equal(1);
    await eventually(() => store.writes.length === 2);
    const fresh = await getFrom(fixture.app, '/api/json');
    expect(fresh.headers['x-cache']).to.equal('HIT');
    expect(fresh.body.call).to.equal(2);
    expect(fixture.calls('json')).to.equal(2);
    // The refresh is no client's request: it emits no `request` event.
    expect(requests.map(({ result }) => result)).to.deep.equal(['miss', 'stale', 'hit']);
  });

  it('lets the request that finds a stale entry refresh it when stale-while-revalidate is off', async () => {
    const { cache, requests } = createTestCache({ ttl: 1, staleTtl: 60, staleWhileRevalidate: false });
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/json');
    clock.tick(1_500);
    const refreshed = await getFrom(fixture.app, '/api/json');
    const fresh = await getFrom(fixture.app, '/api/json');
    expect(refreshed.headers['x-cache']).to.equal('MISS');
    expect(refreshed.body.call).to.equal(2);
    expect(fresh.headers['x-cache']).to.equal('HIT');
    expect(requests.map(({ result }) => result)).to.deep.equal(['miss', 'miss', 'hit']);
  });

  it('serves the stale entry when the handler is slower than loadTimeoutMs, and drops its late response', async () => {
    const { cache, store } = createTestCache({
      ttl: 1,
      staleTtl: 60,
      staleWhileRevalidate: false,
      loadTimeoutMs: 10,
    });
    let loads = 0;
    cache.events.on('load', () => loads++);
    const fixture = createFixtureApp({ cache });
    const server = await served(fixture.app);
    await request(server).get('/api/slow');
    clock.tick(1_500);
    fixture.slowGate.close();
    const stale = await request(server).get('/api/slow');
    expect(stale.headers['x-cache']).to.equal('STALE');
    expect(stale.body.call).to.equal(1);
    fixture.slowGate.open();
    await eventually(() => loads === 2);
    // It was made for a client that got the stale entry, and earlier middleware never added its
    // headers to it: it is not stored. The next request answered in time refreshes the entry.
    expect([fixture.calls('slow'), store.writes.length]).to.deep.equal([2, 1]);
    const refreshed = await request(server).get('/api/slow');
    expect([refreshed.headers['x-cache'], refreshed.body.call]).to.deep.equal(['MISS', 3]);
    const fresh = await request(server).get('/api/slow');
    expect([fresh.headers['x-cache'], fresh.body.call]).to.deep.equal(['HIT', 3]);
  });

  it('serves the stale entry when the handler fails and stale-while-revalidate is off', async () => {
    const { cache } = createTestCache({ ttl: 1, staleTtl: 60, staleWhileRevalidate: false });
    const app = express();
    let failing = false;
    app.get('/feed', responseCache(cache), (_req, res) => {
      if (failing) res.status(503).send('unavailable');
      else res.send('feed v1');
    });
    await getFrom(app, '/feed');
    clock.tick(1_500);
    failing = true;
    const answer = await getFrom(app, '/feed');
    expect(answer.status).to.equal(200);
    expect(answer.headers['x-cache']).to.equal('STALE');
    expect(answer.text).to.equal('feed v1');
  });

  it('serves stale entries for the route’s staleTtl', async () => {
    const { cache, store } = createTestCache({ ttl: 1 });
    const fixture = createFixtureApp({ cache, cacheOptions: { staleTtl: 10 } });
    await getFrom(fixture.app, '/api/json');
    clock.tick(1_500);
    expect(await xCacheOf(fixture.app, '/api/json')).to.equal('STALE');
    await eventually(() => store.writes.length === 2);
    clock.tick(20_000);
    const expired = await getFrom(fixture.app, '/api/json');
    expect(expired.headers['x-cache']).to.equal('MISS');
    expect(expired.body.call).to.equal(3);
  });
});

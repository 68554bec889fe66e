import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

/**
 * Fresh for 50 ms after the handler's first run, then a minute: a response stored or renewed by a
 * later run stays fresh however slowly the next request comes (the renewal, not the clock, is checked).
 */
const shortThenLong = (runs: () => number) => () => (runs() <= 1 ? 0.05 : 60);

// RFC 9111 §4.3: a stale entry with a validator is refreshed by asking the handler whether it changed.
describe('responseCache revalidation (RFC 9111 §4.3)', () => {
  /** A route fresh for 50 ms, then servable stale for a minute while one background refresh runs. */
  function app(body: () => unknown, headers: Record<string, string> = {}) {
    const { cache, store } = createTestCache({ staleTtl: 60 });
    const revalidated: string[] = [];
    cache.events.on('revalidated', ({ key }) => revalidated.push(key));
    const loads: boolean[] = [];
    cache.events.on('load', (event) => loads.push(event.revalidated === true));
    const conditions: (string | undefined)[] = [];
    const application = express();
    const ttl = shortThenLong(() => conditions.length);
    application.get('/item', responseCache(cache, { ttl }), (req, res) => {
      conditions.push(req.get('if-none-match'));
      res.set(headers).json(body());
    });
    return { store, application, conditions, revalidated, loads };
  }

  it("RFC 9111 §4.3.1, §4.3.4: Express's own 304 renews the stale entry without writing its body again", async () => {
    const { store, application, conditions, revalidated, loads } = app(() => ({ id: 1, name: 'same' }));
    const server = await served(application);
    const miss = await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);

    const stale = await request(server).get('/item');
    expect(stale.headers['x-cache']).to.equal('STALE');
    await eventually(() => revalidated.length === 1);

    // The refresh asked with the stored ETag; Express answered 304; the entry is fresh again, and the
    // store took no second write of the whole entry (its times were renewed in place).
    expect(conditions).to.deep.equal([undefined, miss.headers.etag]);
    expect(loads, 'the load event says so').to.deep.equal([false, true]);
    expect(store.writes).to.have.lengthOf(1);
    const hit = await request(server).get('/item');
    expect([hit.headers['x-cache'], hit.body]).to.deep.equal(['HIT', { id: 1, name: 'same' }]);
  });

  it('stores the new response when the handler answers 200 because the resource changed', async () => {
    let version = 1;
    const { store, application, revalidated } = app(() => ({ id: 1, version }));
    const server = await served(application);
    await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);
    version = 2;
    await request(server).get('/item');
    await eventually(() => store.writes.length === 2);
    expect(revalidated).to.deep.equal([]);
    expect((await request(server).get('/item')).body).to.deep.equal({ id: 1, version: 2 });
  });

  it('RFC 9111 §4.3.4: a 304 whose headers differ updates the stored ones, the body kept', async () => {
    let stamp = 'a';
    const { cache, store } = createTestCache({ staleTtl: 60 });
    const revalidated: string[] = [];
    cache.events.on('revalidated', ({ key }) => revalidated.push(key));
    const application = express();
    let runs = 0;
    application.get('/item', responseCache(cache, { ttl: shortThenLong(() => runs) }), (req, res) => {
      runs++;
      res.set('X-Stamp', stamp).set('ETag', '"v1"');
      if (req.get('if-none-match') === '"v1"') res.status(304).end();
      else res.send('body');
    });
    const server = await served(application);
    await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);
    stamp = 'b';
    await request(server).get('/item');
    // The headers changed: the entry is rewritten whole (through the store's renew, on the condition
    // that it is still the one read), with the stored body and the new header.
    await eventually(() => revalidated.length === 1);
    expect(store.writes).to.have.lengthOf(1);
    const hit = await request(server).get('/item');
    expect([hit.headers['x-cache'], hit.headers['x-stamp'], hit.text]).to.deep.equal(['HIT', 'b', 'body']);
  });

  describe('a 304 that must not renew the shared entry (RFC 9111 §3, §4.3.4)', () => {
    for (const [what, extra] of [
      ['sets a cookie', { 'Set-Cookie': 'sid=SECRET; Path=/' }],
      ['says private', { 'Cache-Control': 'private, max-age=60' }],
      ['says no-store', { 'Cache-Control': 'no-store' }],
      ['changes Vary', { Vary: 'Accept-Language' }],
    ] as const) {
      for (const staleWhileRevalidate of [true, false]) {
        it(`is not taken when it ${what} (staleWhileRevalidate: ${staleWhileRevalidate})`, async () => {
          const { cache, store } = createTestCache({ staleTtl: 60, staleWhileRevalidate });
          const revalidated: string[] = [];
          cache.events.on('revalidated', ({ key }) => revalidated.push(key));
          const application = express();
          application.get('/item', responseCache(cache, { ttl: 0.05 }), (req, res) => {
            res.set('ETag', '"v1"').set('Cache-Control', 'public, max-age=60');
            if (req.get('if-none-match') === '"v1"') res.set(extra).status(304).end();
            else res.send('body');
          });
          const server = await served(application);
          await request(server).get('/item');
          await eventually(() => store.writes.length === 1);
          await sleep(100);
          await request(server).get('/item');
          await sleep(50);
          // Another client: nothing of the 304 reached the shared entry.
          const other = await request(server).get('/item').set('Accept-Language', 'fr');
          expect(other.headers['set-cookie']).to.equal(undefined);
          expect(other.headers['cache-control']).to.equal('public, max-age=60');
          expect(other.headers.vary).to.equal(undefined);
          expect(revalidated).to.deep.equal([]);
        });
      }
    }
  });

  it("lets the route's ttl function see the stored status, not the 304", async () => {
    const { cache, store } = createTestCache({ staleTtl: 60 });
    const revalidated: string[] = [];
    cache.events.on('revalidated', ({ key }) => revalidated.push(key));
    const application = express();
    const ttl = (_req: express.Request, res: express.Response) => (res.statusCode === 200 ? 0.05 : 0);
    application.get('/item', responseCache(cache, { ttl }), (_req, res) => res.json({ id: 1 }));
    const server = await served(application);
    await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);
    await request(server).get('/item');
    await eventually(() => revalidated.length === 1);
  });

  it('does not bring back an entry invalidated while its revalidation ran', async () => {
    const { cache, store } = createTestCache({ staleTtl: 60 });
    const application = express();
    let release: () => void = () => {};
    let hold = false;
    application.get('/item', responseCache(cache, { ttl: 0.05, tags: ['items'] }), async (_req, res) => {
      if (hold) await new Promise<void>((resolve) => (release = resolve));
      res.json({ id: 1 });
    });
    const server = await served(application);
    await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);
    hold = true;
    await request(server).get('/item');
    await cache.invalidateTags(['items']);
    hold = false;
    release();
    await cache.close();
    const after = await request(server).get('/item');
    expect(after.headers['x-cache']).to.equal('MISS');
  });
});

describe('responseCache revalidation with stale-if-error (RFC 9111 §4.3, for the client request itself)', () => {
  it("RFC 9111 §4.3.4: the client's request carries the validators; Express's 304 renews the entry, and the client gets the stored 200", async () => {
    const { cache, store, requests } = createTestCache({ staleTtl: 60, staleWhileRevalidate: false });
    const revalidated: string[] = [];
    cache.events.on('revalidated', ({ key }) => revalidated.push(key));
    const conditions: (string | undefined)[] = [];
    const application = express();
    const ttl = shortThenLong(() => conditions.length);
    application.get('/item', responseCache(cache, { ttl }), (req, res) => {
      conditions.push(req.get('if-none-match'));
      res.json({ id: 1 });
    });
    const server = await served(application);
    const miss = await request(server).get('/item');
    await eventually(() => store.writes.length === 1);
    await sleep(100);

    const revalidatedAnswer = await request(server).get('/item');

    expect(conditions).to.deep.equal([undefined, miss.headers.etag]);
    expect([
      revalidatedAnswer.status,
      revalidatedAnswer.headers['x-cache'],
      revalidatedAnswer.body,
    ]).to.deep.equal([200, 'HIT', { id: 1 }]);
    expect(revalidatedAnswer.headers['cache-status']).to.match(/; fwd=stale; fwd-status=304; ttl=\d+$/);
    expect(revalidated).to.have.lengthOf(1);
    expect(store.writes, 'renewed in place, not written again').to.have.lengthOf(1);
    expect(requests.at(-1)).to.include({ result: 'hit', reason: 'revalidated' });
    expect((await request(server).get('/item')).headers['x-cache']).to.equal('HIT');
  });
});

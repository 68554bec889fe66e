import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { REFRESH_TIMEOUT_MS, refreshInBackground } from '../../../src/http/refresh-in-background.js';
import { isBackgroundRefresh, responseCache } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache, fakeDateInEachTest, getFrom } from './http-spec-helpers.js';

describe('background refresh of stale responses', () => {
  const clock = fakeDateInEachTest();

  it('sends a copy of the request through the app, recognisable by isBackgroundRefresh', async () => {
    const { cache, store } = createTestCache({ ttl: 1, staleTtl: 60 });
    const app = express();
    const seen: { refresh: boolean; validator: string | undefined; ip: string | undefined }[] = [];
    app.use((req, _res, next) => {
      seen.push({ refresh: isBackgroundRefresh(req), validator: req.headers['if-none-match'], ip: req.ip });
      // Only the copy itself is a refresh: an object made from it (as some middleware does) is none.
      expect(isBackgroundRefresh(Object.create(req)), 'an object derived from the request').to.equal(false);
      next();
    });
    let calls = 0;
    app.get('/news', responseCache(cache), (_req, res) => res.json({ call: ++calls }));
    const first = await getFrom(app, '/news');
    clock.tick(1_500);
    const stale = await getFrom(app, '/news', { 'If-None-Match': '"the client\'s own"' });
    expect(stale.status).to.equal(200);
    expect(stale.headers['x-cache']).to.equal('STALE');
    await eventually(() => store.writes.length === 2);
    expect(seen.map(({ refresh }) => refresh)).to.deep.equal([false, false, true]);
    // The copy revalidates with the stored response's validator, never with the client's.
    expect(seen[2]?.validator).to.equal(first.headers.etag);
    expect(seen[2]?.ip).to.equal(seen[1]?.ip);
    expect((await getFrom(app, '/news')).body.call).to.equal(2);
  });

  it('settles a refresh whose handler error no error handler takes, keeping the stale entry', async () => {
    const { cache } = createTestCache({ ttl: 1, staleTtl: 60 });
    const app = express();
    let failing = false;
    app.get('/flaky', responseCache(cache), (_req, res) => {
      if (failing) throw new Error('data source down');
      res.json({ fresh: true });
    });
    // No error handler of the app's own: Express's final handler is not called for the refresh.
    await getFrom(app, '/flaky');
    failing = true;
    clock.tick(1_500);
    const stale = await getFrom(app, '/flaky');
    expect(stale.headers['x-cache']).to.equal('STALE');
    await eventually(() => cache.stats().loadErrors === 1);
    const again = await getFrom(app, '/flaky');
    expect(again.headers['x-cache']).to.equal('STALE');
    expect(again.body).to.deep.equal({ fresh: true });
  });

  it('refreshes a stale variant of a Vary response', async () => {
    const { cache, store } = createTestCache({ ttl: 1, staleTtl: 60 });
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    clock.tick(1_500);
    const stale = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    expect(stale.headers['x-cache']).to.equal('STALE');
    await eventually(() => fixture.calls('vary') === 2 && store.writes.length === 4);
    const fresh = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    expect(fresh.headers['x-cache']).to.equal('HIT');
    expect(fresh.body).to.deep.equal({ language: 'fr', call: 2 });
  });

  it('keeps the stale entry when something before the route answers the refresh', async () => {
    const { cache, requests } = createTestCache({ ttl: 1, staleTtl: 60 });
    let refusals = 0;
    const app = express();
    app.use((req, res, next) => {
      if (isBackgroundRefresh(req)) {
        refusals++;
        res.status(429).end();
      } else next();
    });
    app.get('/quota', responseCache(cache), (_req, res) => res.send('page'));
    await getFrom(app, '/quota');
    clock.tick(1_500);
    await getFrom(app, '/quota');
    await eventually(() => refusals === 1);
    await new Promise((resolve) => setImmediate(resolve));
    const again = await getFrom(app, '/quota');
    expect(again.headers['x-cache']).to.equal('STALE');
    expect(requests.map(({ result }) => result)).to.deep.equal(['miss', 'stale', 'stale']);
  });

  it('answers a HEAD request from a stale entry and refreshes it with a GET', async () => {
    const { cache, store } = createTestCache({ ttl: 1, staleTtl: 60 });
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/json');
    clock.tick(1_500);
    const head = await request(await served(fixture.app)).head('/api/json');
    expect(head.headers['x-cache']).to.equal('STALE');
    await eventually(() => store.writes.length === 2);
    expect((await getFrom(fixture.app, '/api/json')).body.call).to.equal(2);
  });

  it('refreshes nothing without an Express app to send the copy through', async () => {
    expect(await refreshInBackground({} as express.Request, {}, undefined, undefined)).to.equal(undefined);
  });

  it('gives up a refresh that does not finish in time', async () => {
    clock.restore();
    const timers = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const app = { handle: () => {} };
    const refreshing = refreshInBackground(
      { app, originalUrl: '/hang', headers: {} } as never,
      {},
      undefined,
      undefined,
    );
    const settled = refreshing.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await timers.tickAsync(REFRESH_TIMEOUT_MS);
    expect(await settled).to.match(/longer than 30000 ms/);
  });
});

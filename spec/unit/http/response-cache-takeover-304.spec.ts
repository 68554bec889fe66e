// A stale entry that takes over from a slow handler may answer the client's own validators with a
// 304. That 304 is the cache's, not the handler's: it says nothing about whether the stored response
// is still current, so it must not renew the entry (RFC 9111 §4.3.4 needs the origin's 304).
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { createCache, MemoryStore, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

describe('responseCache: a stale entry answering a slow handler’s request with a 304', () => {
  afterEach(() => sinon.restore());

  it('neither renews the entry nor stores the replay’s headers when the handler’s late answer is a new version', async () => {
    const store = new MemoryStore();
    const renew = sinon.spy(store, 'renew');
    const set = sinon.spy(store, 'set');
    const cache = createCache({
      store,
      registry: false,
      logger: silentLogger,
      staleTtl: 60,
      staleWhileRevalidate: false,
      loadTimeoutMs: 50,
    });
    let version = 1;
    let handlerRuns = 0;
    const app = express();
    app.get('/item', responseCache(cache, { ttl: 0.05 }), (_req, res) => {
      handlerRuns += 1;
      const send = () => res.set('ETag', `"v${version}"`).send(`v${version}`);
      if (version === 1) send();
      else setTimeout(send, 150);
    });
    const server = await served(app);
    await request(server).get('/item').expect(200, 'v1');
    expect(set.callCount, 'v1 stored').to.equal(1);
    await sleep(100);
    version = 2;

    const revalidating = await request(server).get('/item').set('If-None-Match', '"v1"');
    expect(revalidating.status, 'the stale entry answers the client’s validators').to.equal(304);
    expect(revalidating.headers['x-cache']).to.equal('STALE');
    // The handler's v2 arrives after the stale entry answered; it was dropped, nothing was renewed.
    await sleep(200);
    expect(handlerRuns).to.equal(2);
    expect(renew.callCount, 'renewals of the stale entry').to.equal(0);

    const next = await request(server).get('/item');
    expect(next.headers['x-cache'], 'still stale: nothing said v1 is current').to.equal('STALE');
    expect(next.headers['cache-status'], 'one Cache-Status member').to.equal('cache; fwd=stale; ttl=-1');
    await sleep(200);
  });
});

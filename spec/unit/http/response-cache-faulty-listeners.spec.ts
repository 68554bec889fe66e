// An application's own event listener (or a logger it passed in) that throws is a bug of the
// application; it must not crash the process, hang a request or cost the client its answer.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createCache, MemoryStore, type RequestResult, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

describe('responseCache with a listener that throws', () => {
  it('answers a stale fallback with the late handler response when a lookup listener throws, counting the request once', async () => {
    const cache = createCache({
      store: new MemoryStore(),
      registry: false,
      logger: silentLogger,
      staleTtl: 60,
      staleWhileRevalidate: false,
      // The handler below takes longer: the stale entry would answer, but the lookup fails first.
      loadTimeoutMs: 50,
    });
    const requests: { result: RequestResult; reason: string | undefined }[] = [];
    cache.events.on('request', ({ result, reason }) => requests.push({ result, reason }));
    let listenerThrows = false;
    cache.events.on('lookup', ({ result }) => {
      if (listenerThrows && result === 'stale') throw new Error('a bug in the application’s listener');
    });
    let version = 1;
    const app = express();
    app.get('/item', responseCache(cache, { ttl: 0.05 }), (_req, res) => {
      const body = `v${version}`;
      // Answered from a timer: a throw inside `res.send` here would be uncaught and end the process.
      if (version === 1) res.send(body);
      else setTimeout(() => res.send(body), 150);
    });
    const server = await served(app);
    await request(server).get('/item').expect(200, 'v1');
    await sleep(100);
    version = 2;
    listenerThrows = true;
    requests.length = 0;

    const answer = await request(server).get('/item');

    expect(answer.status).to.equal(200);
    expect(answer.text).to.equal('v2');
    expect(answer.headers['x-cache']).to.equal('MISS');
    await sleep(50);
    expect(requests, 'one request event, for a response not stored').to.deep.equal([
      { result: 'miss', reason: 'error' },
    ]);
  });
});

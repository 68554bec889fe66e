import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

// An app-level middleware in front of every route, and a route with options of its own, on one cache:
// the inner one would join the load the outer one leads, which waits for the very handler behind it.
describe('responseCache mounted inside another of the same cache', () => {
  it('passes the request on: the handler runs once per key, the outer middleware stores it, one warning', async () => {
    const log = new RecordingLogger('warn');
    const { cache, requests } = createTestCache({ logger: log.logger });
    const nested: CacheEventMap['nested-middleware'][0][] = [];
    cache.events.on('nested-middleware', (event) => nested.push(event));
    let runs = 0;
    const app = express();
    app.use(responseCache(cache));
    app.get('/items/:id', responseCache(cache, { ttl: 30 }), (req, res) => {
      runs++;
      res.json({ id: req.params.id });
    });
    const server = await served(app);

    expect((await request(server).get('/items/1').expect(200)).headers['x-cache']).to.equal('MISS');
    await eventually(async () => (await request(server).get('/items/1')).headers['x-cache'] === 'HIT');
    expect((await request(server).get('/items/2').expect(200)).body).to.deep.equal({ id: '2' });

    expect(runs, 'one handler run per key').to.equal(2);
    expect(
      requests.filter(({ result }) => result === 'miss'),
      'one request event per request',
    ).to.have.lengthOf(2);
    expect(nested).to.deep.equal([{ route: '/items/:id' }]);
    expect(log.at('warn').filter(({ message }) => message.includes('second middleware'))).to.have.lengthOf(1);
    await cache.close();
  });

  it('leaves the middlewares of two caches each its own requests', async () => {
    const outer = createTestCache();
    const inner = createTestCache();
    const app = express();
    app.use(responseCache(outer.cache));
    app.get('/items/:id', responseCache(inner.cache), (req, res) => {
      res.json({ id: req.params.id });
    });
    const server = await served(app);
    await request(server).get('/items/1').expect(200);
    expect(outer.requests.map(({ result }) => result)).to.deep.equal(['miss']);
    expect(inner.requests.map(({ result }) => result)).to.deep.equal(['miss']);
    await Promise.all([outer.cache.close(), inner.cache.close()]);
  });
});

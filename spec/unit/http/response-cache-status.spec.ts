import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache, getFrom } from './http-spec-helpers.js';

// RFC 9211: every response says what the cache did, as the last member of `Cache-Status`.
describe('responseCache Cache-Status (RFC 9211)', () => {
  function app(options: Parameters<typeof responseCache>[1] = {}, cacheOptions = {}) {
    const { cache, store } = createTestCache({ name: 'shop', ...cacheOptions });
    const application = express();
    let calls = 0;
    application.all('/item', responseCache(cache, { ttl: 60, ...options }), (req, res) => {
      calls++;
      if (req.query.upstream !== undefined) res.setHeader('Cache-Status', 'origin-cdn; hit');
      if (req.query.cookie !== undefined) res.setHeader('Set-Cookie', 'a=1');
      res.status(req.query.status === undefined ? 200 : Number(req.query.status)).json({ calls });
    });
    return { cache, store, application, calls: () => calls };
  }

  /** The `Cache-Status` of a first GET of `path` (a miss) and of the GET after it was stored (a hit). */
  async function missThenHit(path: string): Promise<{ miss: unknown; hit: unknown }> {
    const { application, store } = app();
    const server = await served(application);
    const miss = await request(server).get(path);
    await eventually(() => store.writes.length > 0);
    const hit = await request(server).get(path);
    return { miss: miss.headers['cache-status'], hit: hit.headers['cache-status'] };
  }

  it('RFC 9211 §2.1/§2.2: a miss is forwarded with the status the handler gave; a hit says its ttl', async () => {
    const { miss, hit } = await missThenHit('/item');
    expect(miss).to.equal('shop; fwd=uri-miss; fwd-status=200');
    expect(hit).to.match(/^shop; hit; ttl=(59|60)$/);
  });

  it('RFC 9211 §2.2: bypasses say why (method, request, bypass), with the reason as detail', async () => {
    const server = await served(app().application);
    expect((await request(server).post('/item')).headers['cache-status']).to.equal(
      'shop; fwd=method; fwd-status=200; detail=method',
    );
    expect((await request(server).get('/item').set('Cookie', 'sid=1')).headers['cache-status']).to.equal(
      'shop; fwd=request; fwd-status=200; detail=cookie',
    );
  });

  it('RFC 9211 §2: keeps the Cache-Status of caches closer to the origin, and appends its own', async () => {
    const { miss, hit } = await missThenHit('/item?upstream');
    expect(miss).to.equal('origin-cdn; hit, shop; fwd=uri-miss; fwd-status=200');
    expect(hit).to.match(/^origin-cdn; hit, shop; hit; ttl=\d+$/);
  });

  it('RFC 9211 §2.8: says why a miss is not stored, and stores none of its own member', async () => {
    const { application, store } = app();
    const server = await served(application);
    expect((await request(server).get('/item?status=500')).headers['cache-status']).to.equal(
      'shop; fwd=uri-miss; fwd-status=500; stored=?0; detail=status',
    );
    expect((await request(server).get('/item?cookie')).headers['cache-status']).to.equal(
      'shop; fwd=uri-miss; fwd-status=200; stored=?0; detail=set-cookie',
    );
    await request(server).get('/item');
    await eventually(() => store.writes.length > 0);
    const stored = store.writes.map((write) => write.bytes);
    expect(stored.length).to.equal(1);
    const hit = await request(server).get('/item');
    expect(hit.headers['cache-status']).to.not.include('fwd=');
  });

  it('quotes a cache name that is no token', async () => {
    const { application } = app({}, { name: 'my cache' });
    const miss = await getFrom(application, '/item');
    expect(miss.headers['cache-status']).to.equal('"my cache"; fwd=uri-miss; fwd-status=200');
  });

  it('is off with cacheStatus: false', async () => {
    const miss = await request(await served(app({ cacheStatus: false }).application)).get('/item');
    expect(miss.headers['cache-status']).to.equal(undefined);
    expect(miss.headers['x-cache']).to.equal('MISS');
  });
});

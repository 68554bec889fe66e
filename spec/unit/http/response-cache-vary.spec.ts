import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache, responseCacheKey } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { originOf, served } from '../../support/served.js';
import { createTestCache, getFrom } from './http-spec-helpers.js';

describe('responseCache and Vary', () => {
  it('keeps one entry per value of the request headers the response varies on', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    const french = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    const german = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'de' });
    const none = await getFrom(fixture.app, '/api/vary');
    expect(french.headers['x-cache']).to.equal('HIT');
    expect(french.body.language).to.equal('fr');
    expect(german.headers['x-cache']).to.equal('MISS');
    expect(german.body.language).to.equal('de');
    expect(none.headers['x-cache']).to.equal('MISS');
    expect(none.body.language).to.equal('none');
    expect(fixture.calls('vary')).to.equal(3);
  });

  it('costs one store read per hit without Vary, and two with a Vary found in the response', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/json');
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    store.reads = 0;
    await getFrom(fixture.app, '/api/json');
    expect(store.reads).to.equal(1);
    store.reads = 0;
    const hit = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(store.reads).to.equal(2);
  });

  it('keeps a Vary hit to one store read when the route names the header up front', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache, routeOptions: { vary: { varyHeaders: ['accept-language'] } } });
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    store.reads = 0;
    const hit = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(store.reads).to.equal(1);
    const other = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'de' });
    expect(other.body.language).to.equal('de');
  });

  it('keys on a Vary that middleware before the cache set (CORS `Vary: Origin`)', async () => {
    const { cache } = createTestCache();
    const app = express();
    let calls = 0;
    app.use((req, res, next) => {
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
      next();
    });
    app.get('/data', responseCache(cache), (req, res) =>
      res.json({ origin: req.headers.origin, call: ++calls }),
    );
    await getFrom(app, '/data', { Origin: 'https://a.example' });
    const a = await getFrom(app, '/data', { Origin: 'https://a.example' });
    const b = await getFrom(app, '/data', { Origin: 'https://b.example' });
    expect(a.headers['x-cache']).to.equal('HIT');
    expect(b.headers['x-cache']).to.equal('MISS');
    expect(b.body.origin).to.equal('https://b.example');
  });

  it('answers HEAD from the variant its headers select', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const get = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    const head = await request(await served(fixture.app))
      .head('/api/vary')
      .set('Accept-Language', 'fr');
    expect(head.headers['x-cache']).to.equal('HIT');
    expect(head.headers['content-length']).to.equal(get.headers['content-length']);
  });

  it('makes every variant unreachable when the base key is invalidated', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'de' });
    const origin = originOf(await served(fixture.app));
    expect(await cache.invalidate(responseCacheKey({ url: '/api/vary', origin }))).to.equal(true);
    const french = await getFrom(fixture.app, '/api/vary', { 'Accept-Language': 'fr' });
    expect(french.headers['x-cache']).to.equal('MISS');
  });

  it('does not store a variant whose Vary differs from the recorded one', async () => {
    const { cache, requests } = createTestCache();
    const app = express();
    let varyOn = 'Accept-Language';
    app.get('/shifting', responseCache(cache), (req, res) => {
      res.vary(varyOn).json({ language: req.headers['accept-language'] });
    });
    await getFrom(app, '/shifting', { 'Accept-Language': 'fr' });
    varyOn = 'Accept';
    await getFrom(app, '/shifting', { 'Accept-Language': 'de' });
    const again = await getFrom(app, '/shifting', { 'Accept-Language': 'de' });
    expect(again.headers['x-cache']).to.equal('MISS');
    expect(requests[1]?.reason).to.equal('vary-changed');
  });
});

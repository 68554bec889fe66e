import { expect } from 'chai';
import express, { type Request } from 'express';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { type Cache, type ResponseCacheOptions, responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache, getFrom } from './http-spec-helpers.js';

type ShadowEvent = CacheEventMap['shadow'][0];

/**
 * An app over `cache` whose `/items/:id` route answers from a data source the spec changes: `data` (by
 * id), with the handler runs counted. `/other` is a second cached route.
 */
function itemsApp(cache: Cache, options: ResponseCacheOptions<{ id: string }> = {}) {
  const data = new Map<string, string>([['1', 'first']]);
  let runs = 0;
  const app = express();
  app.get('/items/:id', responseCache(cache, options), (req, res) => {
    runs++;
    const value = data.get(req.params.id);
    if (value === undefined) res.status(404).json({ missing: req.params.id });
    else res.json({ id: req.params.id, value });
  });
  app.get('/other', responseCache(cache), (_req, res) => {
    runs++;
    res.type('text/plain').send('other');
  });
  app.get('/vary', responseCache(cache), (req, res) => {
    runs++;
    res.vary('Accept-Language');
    res.json({ language: req.headers['accept-language'] ?? 'none', value: data.get('1') });
  });
  return { app, data, runs: () => runs };
}

function shadowEvents(cache: Cache): ShadowEvent[] {
  const seen: ShadowEvent[] = [];
  cache.events.on('shadow', (event) => seen.push(event));
  return seen;
}

const summary = ({ would, match, route }: ShadowEvent) => `${route} ${would}/${match}`;

describe('responseCache and the cache mode', () => {
  describe('route option `enabled`', () => {
    it('false: every request goes past the cache (BYPASS, reason disabled), nothing read or stored', async () => {
      const { cache, store, requests } = createTestCache();
      const { app, runs } = itemsApp(cache, { enabled: false });
      const first = await getFrom(app, '/items/1');
      const second = await getFrom(app, '/items/1');
      expect([first.headers['x-cache'], second.headers['x-cache']]).to.deep.equal(['BYPASS', 'BYPASS']);
      expect(second.headers['cache-status']).to.equal('cache; fwd=bypass; fwd-status=200; detail=disabled');
      expect(runs()).to.equal(2);
      expect([store.reads, store.writes.length]).to.deep.equal([0, 0]);
      expect(requests.map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal([
        'bypass/disabled',
        'bypass/disabled',
      ]);
    });

    it('a function decides per request', async () => {
      const { cache } = createTestCache();
      const { app } = itemsApp(cache, { enabled: (req) => req.query.live !== 'yes' });
      await getFrom(app, '/items/1');
      expect((await getFrom(app, '/items/1')).headers['x-cache']).to.equal('HIT');
      expect((await getFrom(app, '/items/1?live=yes')).headers['x-cache']).to.equal('BYPASS');
    });

    it('a function that throws or gives no boolean sends the request past the cache, reported once per route', async () => {
      const { cache, requests } = createTestCache();
      const warnings: CacheEventMap['key-error'][0][] = [];
      cache.events.on('key-error', (event) => warnings.push(event));
      const throwing = itemsApp(cache, {
        enabled: () => {
          throw new Error('feature flags unavailable');
        },
      });
      const answers = [await getFrom(throwing.app, '/items/1'), await getFrom(throwing.app, '/items/1')];
      const notBoolean = itemsApp(cache, {
        enabled: ((req: Request) => req.query.flag) as unknown as () => boolean,
      });
      answers.push(await getFrom(notBoolean.app, '/items/1?flag=on'));
      expect(answers.map((answer) => `${answer.status} ${answer.headers['x-cache']}`)).to.deep.equal([
        '200 BYPASS',
        '200 BYPASS',
        '200 BYPASS',
      ]);
      expect(requests.map((event) => event.reason)).to.deep.equal(['key-error', 'key-error', 'key-error']);
      expect(warnings.map(({ route, option }) => `${route} ${option}`)).to.deep.equal([
        '/items/:id enabled',
        '/items/:id enabled',
      ]);
      expect(warnings.map(({ error }) => (error as Error).message)).to.deep.equal([
        'feature flags unavailable',
        'responseCache: `enabled` must return a boolean, got "on"',
      ]);
    });
  });

  describe('cache.setMode("off")', () => {
    it('sends every request past the cache, a stored one too, and "on" serves it again', async () => {
      const { cache, store, requests } = createTestCache();
      const { app, data } = itemsApp(cache);
      await getFrom(app, '/items/1');
      // The entry is written after the response went out.
      await eventually(() => expect(store.writes).to.have.lengthOf(1));
      await cache.setMode('off');
      data.set('1', 'changed');
      const readsBefore = store.reads;
      const off = await getFrom(app, '/items/1');
      const head = await request(await served(app)).head('/other');
      expect([off.headers['x-cache'], head.headers['x-cache']]).to.deep.equal(['BYPASS', 'BYPASS']);
      expect(off.body).to.deep.equal({ id: '1', value: 'changed' });
      expect(store.reads - readsBefore).to.equal(0);
      expect(requests.slice(1).map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal([
        'bypass/disabled',
        'bypass/disabled',
      ]);
      await cache.setMode('on');
      const on = await getFrom(app, '/items/1');
      expect(on.headers['x-cache']).to.equal('HIT');
      expect(on.body).to.deep.equal({ id: '1', value: 'first' });
    });
  });

  describe('cache.setMode("shadow")', () => {
    it('lets the handler answer every request and reports what the cache would have answered', async () => {
      const { cache, requests } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const { app, data, runs } = itemsApp(cache);
      // Each request's comparison (and a would-be miss's write) is done before the next one looks up.
      const first = await getFrom(app, '/items/1');
      await eventually(() => expect(shadows).to.have.lengthOf(1));
      const second = await getFrom(app, '/items/1');
      await eventually(() => expect(shadows).to.have.lengthOf(2));
      data.set('1', 'changed');
      const third = await getFrom(app, '/items/1');
      expect(runs()).to.equal(3);
      expect(third.body, 'the fresh body, never the stored one').to.deep.equal({ id: '1', value: 'changed' });
      expect([first, second, third].map((answer) => answer.headers['x-cache'])).to.deep.equal([
        'BYPASS',
        'BYPASS',
        'BYPASS',
      ]);
      expect(third.headers['cache-status']).to.equal('cache; fwd=bypass; fwd-status=200; detail=shadow');
      await eventually(() => expect(shadows).to.have.lengthOf(3));
      expect(shadows.map(summary)).to.deep.equal([
        '/items/:id miss/none',
        '/items/:id hit/same',
        '/items/:id hit/different',
      ]);
      expect(requests.map(({ result }) => result)).to.deep.equal(['shadow', 'shadow', 'shadow']);
    });

    it('stores as the cache would have, so that switching on serves what shadow compared against', async () => {
      const { cache } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const { app, data } = itemsApp(cache);
      await getFrom(app, '/items/1');
      await eventually(() => expect(shadows).to.have.lengthOf(1));
      data.set('1', 'changed');
      await getFrom(app, '/items/1');
      await eventually(() => expect(shadows).to.have.lengthOf(2));
      await cache.setMode('on');
      const on = await getFrom(app, '/items/1');
      expect(on.headers['x-cache']).to.equal('HIT');
      expect(on.body, 'the would-be hit stored nothing').to.deep.equal({ id: '1', value: 'first' });
    });

    it('counts a stored response whose item is gone (a 404 now) as different, and stores nothing for it', async () => {
      const { cache, store } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const { app, data } = itemsApp(cache);
      await getFrom(app, '/items/1');
      await eventually(() => expect(shadows).to.have.lengthOf(1));
      data.delete('1');
      const writes = store.writes.length;
      expect((await getFrom(app, '/items/1')).status).to.equal(404);
      await eventually(() => expect(shadows).to.have.lengthOf(2));
      expect(shadows.map(summary)[1]).to.equal('/items/:id hit/different');
      expect(store.writes.length).to.equal(writes);
    });

    it('compares the variant a Vary record leads to, not the record', async () => {
      const { cache } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const { app, data } = itemsApp(cache);
      const french = { 'Accept-Language': 'fr' };
      const answers = [];
      answers.push(await getFrom(app, '/vary', french));
      await eventually(() => expect(shadows).to.have.lengthOf(1));
      answers.push(await getFrom(app, '/vary', french));
      await eventually(() => expect(shadows).to.have.lengthOf(2));
      answers.push(await getFrom(app, '/vary', { 'Accept-Language': 'de' }));
      await eventually(() => expect(shadows).to.have.lengthOf(3));
      data.set('1', 'changed');
      answers.push(await getFrom(app, '/vary', french));
      await eventually(() => expect(shadows).to.have.lengthOf(4));
      expect(shadows.map(summary)).to.deep.equal([
        '/vary miss/none',
        '/vary hit/same',
        '/vary miss/none',
        '/vary hit/different',
      ]);
      expect(answers.at(-1)?.body).to.deep.equal({ language: 'fr', value: 'changed' });
      await cache.setMode('on');
      const on = await getFrom(app, '/vary', { 'Accept-Language': 'de' });
      expect([on.headers['x-cache'], on.body.language]).to.deep.equal(['HIT', 'de']);
    });

    it('lets the handler answer HEAD, and counts nothing for it (no body to compare)', async () => {
      const { cache, requests } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const { app, runs } = itemsApp(cache);
      const head = await request(await served(app)).head('/other');
      expect([head.status, head.headers['x-cache'], runs()]).to.deep.equal([200, 'BYPASS', 1]);
      await eventually(() => expect(requests).to.have.lengthOf(1));
      expect(requests[0]).to.include({ result: 'shadow', reason: 'head' });
      expect(shadows).to.deep.equal([]);
    });

    it('reports nothing for a Vary response whose variant was looked up after a switch back on', async () => {
      const { cache, requests } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      let switchOn = false;
      const app = express();
      app.get('/vary', responseCache(cache), async (_req, res) => {
        // The switch lands while the handler runs: the engine looks the variant up as a cache that is on.
        if (switchOn) await cache.setMode('on');
        res.vary('Accept-Language').json({ value: 'v' });
      });
      await getFrom(app, '/vary', { 'Accept-Language': 'fr' });
      await eventually(() => expect(shadows).to.have.lengthOf(1));
      switchOn = true;
      const lookups: string[] = [];
      cache.events.on('lookup', ({ result }) => lookups.push(result));
      const answer = await getFrom(app, '/vary', { 'Accept-Language': 'fr' });
      expect(answer.headers['x-cache']).to.equal('BYPASS');
      await eventually(() => expect(requests).to.have.lengthOf(2));
      expect(requests[1]).to.include({ result: 'shadow' });
      // The variant's lookup, on: a hit, answered from the cache to nobody.
      await eventually(() => expect(lookups).to.deep.equal(['hit']));
      expect(shadows.map(summary)).to.deep.equal(['/vary miss/none']);
    });

    it('names the route of a middleware mounted with app.use', async () => {
      const { cache } = createTestCache();
      await cache.setMode('shadow');
      const shadows = shadowEvents(cache);
      const app = express();
      app.use(responseCache(cache));
      app.get('/articles/:slug', (req, res) => res.json({ slug: req.params.slug }));
      await getFrom(app, '/articles/cache-aside');
      await eventually(() => expect(shadows.map(summary)).to.deep.equal(['/articles/:slug miss/none']));
    });
  });
});

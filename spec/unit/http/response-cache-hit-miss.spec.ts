import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { CacheOptionError, responseCache } from '../../../src/index.js';
import { createFixtureApp, type ExpressModule, express4, express5 } from '../../support/app-factory.js';
import { served } from '../../support/served.js';
import { createTestCache, getBytesFrom, getFrom } from './http-spec-helpers.js';

const majors: [string, ExpressModule][] = [
  ['Express 5', express5],
  ['Express 4', express4],
];

for (const [major, expressModule] of majors) {
  describe(`responseCache hit and miss (${major})`, () => {
    it('runs the handler on a miss and replays status, headers and body on a hit', async () => {
      const { cache } = createTestCache();
      const fixture = createFixtureApp({ cache, express: expressModule });
      const miss = await getFrom(fixture.app, '/api/json');
      const hit = await getFrom(fixture.app, '/api/json');
      expect(miss.headers['x-cache']).to.equal('MISS');
      expect(hit.headers['x-cache']).to.equal('HIT');
      expect(hit.status).to.equal(200);
      expect(hit.body).to.deep.equal({ message: 'hello', call: 1 });
      expect(hit.headers['content-type']).to.equal(miss.headers['content-type']);
      expect(hit.headers.etag).to.equal(miss.headers.etag);
      expect(hit.headers['content-length']).to.equal(miss.headers['content-length']);
      expect(fixture.calls('json')).to.equal(1);
    });

    /** A miss then a hit of `path` on a fresh fixture app, both bodies as raw bytes; the hit is checked. */
    async function missThenHitBytes(path: string) {
      const { cache } = createTestCache();
      const fixture = createFixtureApp({ cache, express: expressModule });
      const miss = await getBytesFrom(fixture.app, path);
      const hit = await getBytesFrom(fixture.app, path);
      expect(hit.headers['x-cache']).to.equal('HIT');
      return { fixture, miss, hit };
    }

    it('replays binary bodies byte for byte', async () => {
      const { fixture, miss, hit } = await missThenHitBytes('/api/binary');
      expect(Buffer.compare(miss.body, fixture.binaryBody)).to.equal(0);
      expect(Buffer.compare(hit.body, fixture.binaryBody)).to.equal(0);
    });

    it('stores streamed chunks written with their own encodings byte for byte', async () => {
      const { fixture, miss, hit } = await missThenHitBytes('/api/streamed');
      expect(miss.body.equals(fixture.streamedBody)).to.equal(true);
      expect(hit.body.equals(fixture.streamedBody)).to.equal(true);
      expect(fixture.calls('streamed')).to.equal(1);
    });

    it('stores res.sendFile responses byte for byte', async () => {
      const { fixture, hit } = await missThenHitBytes('/api/file');
      const { readFile } = await import('node:fs/promises');
      expect(hit.body.equals(await readFile(fixture.filePath))).to.equal(true);
      expect(fixture.calls('file')).to.equal(1);
    });

    it('shares one entry between query strings that differ only in parameter order', async () => {
      const { cache } = createTestCache();
      const fixture = createFixtureApp({ cache, express: expressModule });
      await getFrom(fixture.app, '/api/items/7?b=2&a=1');
      const reordered = await getFrom(fixture.app, '/api/items/7?a=1&b=2');
      const otherValue = await getFrom(fixture.app, '/api/items/7?a=1&b=3');
      expect(reordered.headers['x-cache']).to.equal('HIT');
      expect(otherValue.headers['x-cache']).to.equal('MISS');
      expect(otherValue.body.query).to.deep.equal([
        ['a', '1'],
        ['b', '3'],
      ]);
      expect(fixture.calls('item')).to.equal(2);
    });

    it('passes other methods through to their handlers, marked BYPASS', async () => {
      const { cache, store } = createTestCache();
      const app = expressModule();
      let calls = 0;
      app.use(responseCache(cache));
      app.post('/things', (_req, res) => res.status(201).json({ call: ++calls }));
      const first = await request(await served(app)).post('/things');
      const second = await request(await served(app)).post('/things');
      expect(first.headers['x-cache']).to.equal('BYPASS');
      expect(second.body).to.deep.equal({ call: 2 });
      expect(store.writes).to.have.length(0);
    });
  });
}

describe('responseCache replay details', () => {
  afterEach(() => sinon.restore());

  it('ignores request Cache-Control and Pragma, so no client can make every request reach the handler', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const server = await served(fixture.app);
    await request(server).get('/api/json');
    for (const [name, value] of [
      ['Cache-Control', 'no-cache'],
      ['Cache-Control', 'max-age=0'],
      ['Pragma', 'no-cache'],
    ] as const) {
      const response = await request(server).get('/api/json').set(name, value);
      expect(response.headers['x-cache'], `${name}: ${value}`).to.equal('HIT');
    }
    expect(fixture.calls('json')).to.equal(1);
  });

  it('adds Age from the time the entry was stored', async () => {
    const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    const { cache } = createTestCache({ ttl: 60 });
    const fixture = createFixtureApp({ cache });
    const miss = await getFrom(fixture.app, '/api/json');
    clock.tick(42_300);
    const hit = await getFrom(fixture.app, '/api/json');
    expect(miss.headers.age).to.equal(undefined);
    expect(hit.headers.age).to.equal('42');
  });

  it('keeps headers written with writeHead(status, headers)', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/write-head');
    const hit = await getFrom(fixture.app, '/api/write-head');
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(hit.headers['x-handler-call']).to.equal('1');
    expect(hit.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(hit.text).to.equal('written with writeHead (call 1)');
  });

  it('gives each hit the headers that earlier middleware sets per request, not the first one’s', async () => {
    const { cache } = createTestCache();
    const app = express();
    let requestNumber = 0;
    app.use((_req, res, next) => {
      res.setHeader('X-Request-Id', `request-${++requestNumber}`);
      next();
    });
    app.get('/page', responseCache(cache), (_req, res) => res.set('X-From-Handler', 'yes').send('page'));
    await getFrom(app, '/page');
    const hit = await getFrom(app, '/page');
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(hit.headers['x-request-id']).to.equal('request-2');
    expect(hit.headers['x-from-handler']).to.equal('yes');
  });

  it('uses a custom key in place of the path and query', async () => {
    const { cache } = createTestCache();
    const app = express();
    let calls = 0;
    app.get(
      '/search',
      responseCache(cache, { key: (req) => `search:${String(req.query.q)}` }),
      (req, res) => {
        res.json({ q: req.query.q, call: ++calls });
      },
    );
    await getFrom(app, '/search?q=cats&utm_source=mail');
    const sameKey = await getFrom(app, '/search?q=cats&utm_source=web');
    const otherKey = await getFrom(app, '/search?q=dogs');
    expect(sameKey.headers['x-cache']).to.equal('HIT');
    expect(otherKey.headers['x-cache']).to.equal('MISS');
    expect(calls).to.equal(2);
  });

  it('bypasses the cache, never a 500, when a custom key function throws or gives no usable key', async () => {
    const { cache, store, requests } = createTestCache();
    const warnings: { route: string; option: string }[] = [];
    cache.events.on('key-error', ({ route, option }) => warnings.push({ route, option }));
    const app = express();
    let calls = 0;
    app.get('/empty', responseCache(cache, { key: () => '' }), (_req, res) => res.send(`call ${++calls}`));
    app.get(
      '/throws',
      responseCache(cache, {
        key: () => {
          throw new Error('no tenant');
        },
      }),
      (_req, res) => res.send(`call ${++calls}`),
    );
    const server = await served(app);
    const responses = [
      await request(server).get('/empty'),
      await request(server).get('/empty'),
      await request(server).get('/throws'),
    ];
    expect(
      responses.map((response) => [response.status, response.headers['x-cache'], response.text]),
    ).to.deep.equal([
      [200, 'BYPASS', 'call 1'],
      [200, 'BYPASS', 'call 2'],
      [200, 'BYPASS', 'call 3'],
    ]);
    expect(store.writes).to.have.length(0);
    expect(requests.map((event) => event.reason)).to.deep.equal(['key-error', 'key-error', 'key-error']);
    // One warning per route, however many requests fail.
    expect(warnings).to.deep.equal([
      { route: '/empty', option: 'key' },
      { route: '/throws', option: 'key' },
    ]);
  });

  it('serves from the handler when the store fails, without failing the request', async () => {
    const { cache, store } = createTestCache();
    sinon.stub(store, 'get').rejects(new Error('connection reset'));
    sinon.stub(store, 'set').rejects(new Error('connection reset'));
    const fixture = createFixtureApp({ cache });
    const first = await getFrom(fixture.app, '/api/json');
    const second = await getFrom(fixture.app, '/api/json');
    expect([first.status, second.status]).to.deep.equal([200, 200]);
    expect(first.headers['x-cache']).to.equal('MISS');
    expect(second.body.call).to.equal(2);
  });

  it('rejects a missing cache and invalid options when it is created', () => {
    expect(() => responseCache({} as never)).to.throw(CacheOptionError, /`cache`/);
    const { cache } = createTestCache();
    expect(() => responseCache(cache, { maxAge: 5 } as never)).to.throw(TypeError, /unknown option `maxAge`/);
  });
});

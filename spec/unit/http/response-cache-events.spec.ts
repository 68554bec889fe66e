import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { responseCache } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache, getFrom } from './http-spec-helpers.js';

describe('responseCache request events', () => {
  it('emits one event per request with the route pattern, never the raw URL', async () => {
    const { cache, requests } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/items/42?page=1');
    await getFrom(fixture.app, '/api/items/42?page=1');
    await getFrom(fixture.app, '/api/me', { Authorization: 'Bearer x' });
    await getFrom(fixture.app, '/api/set-cookie');
    await request(await served(fixture.app)).head('/api/json');
    expect(
      requests.map(({ route, method, result, reason }) => ({ route, method, result, reason })),
    ).to.deep.equal([
      { route: '/api/items/:id', method: 'GET', result: 'miss', reason: undefined },
      { route: '/api/items/:id', method: 'GET', result: 'hit', reason: undefined },
      { route: '/api/me', method: 'GET', result: 'bypass', reason: 'authorization' },
      { route: '/api/set-cookie', method: 'GET', result: 'miss', reason: 'set-cookie' },
      { route: '/api/json', method: 'HEAD', result: 'miss', reason: 'head' },
    ]);
    for (const { durationSeconds } of requests) expect(durationSeconds).to.be.within(0, 10);
  });

  it('counts a miss answered with a server error as a failed load, in the group of its route', async () => {
    const { cache, requests } = createTestCache();
    const loads: CacheEventMap['load'][0][] = [];
    cache.events.on('load', (load) => loads.push(load));
    const fixture = createFixtureApp({ cache });
    for (const [path, loaded] of [
      ['/api/server-error', 1],
      ['/api/error', 2],
      ['/api/items/1', 3],
    ] as const) {
      await getFrom(fixture.app, path);
      await eventually(() => loads.length === loaded);
    }
    expect(loads.map(({ failed, group }) => ({ failed, group }))).to.deep.equal([
      { failed: true, group: '/api/server-error' },
      { failed: true, group: '/api/error' },
      { failed: false, group: '/api/items/:id' },
    ]);
    expect(loads[0]?.error).to.match(/status 500/);
    expect(requests.map(({ result, status }) => `${result} ${status}`)).to.deep.equal([
      'miss 500',
      'miss 500',
      'miss 200',
    ]);
    expect(cache.stats()).to.include({ loads: 3, loadErrors: 2 });
  });

  it('groups the loads of a middleware mounted with app.use by the route that answered', async () => {
    const { cache } = createTestCache();
    const loads: CacheEventMap['load'][0][] = [];
    cache.events.on('load', (load) => loads.push(load));
    const app = express();
    app.use(responseCache(cache));
    app.get('/articles/:slug', (_req, res) => res.status(503).json({ error: 'later' }));
    await getFrom(app, '/articles/cache-aside');
    await eventually(() => loads.length === 1);
    expect(loads[0]).to.include({ failed: true, group: '/articles/:slug' });
  });

  it('names the route of a handler that failed, not the path Express restored for the error handler', async () => {
    const { cache, requests } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/error');
    expect(requests[0]).to.include({ route: '/api/error', result: 'miss', reason: 'status' });
  });

  it('reads the route after routing when mounted with app.use, and from the entry on hits', async () => {
    const { cache, requests } = createTestCache();
    const app = express();
    app.use(responseCache(cache));
    app.get('/articles/:slug', (req, res) => res.json({ slug: req.params.slug }));
    await getFrom(app, '/articles/cache-aside');
    await getFrom(app, '/articles/cache-aside');
    await getFrom(app, '/nowhere');
    expect(requests.map(({ route, result }) => `${result} ${route}`)).to.deep.equal([
      'miss /articles/:slug',
      'hit /articles/:slug',
      'miss <unmatched>',
    ]);
  });

  it('reports a response that closed before it ended as aborted, and stores nothing', async () => {
    const { cache, store, requests } = createTestCache();
    const fixture = createFixtureApp({ cache });
    fixture.slowGate.close();
    const server = http.createServer(fixture.app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const client = http.get({ host: '127.0.0.1', port, path: '/api/slow' });
      client.on('error', () => {});
      await eventually(() => fixture.calls('slow') === 1);
      client.destroy();
      await eventually(() => requests.length === 1);
      fixture.slowGate.open();
      expect(requests[0]).to.include({ result: 'miss', reason: 'aborted' });
      expect(store.writes).to.have.length(0);
    } finally {
      fixture.slowGate.open();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sets X-Cache on every outcome', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const outcomes = new Set<string>();
    for (const path of ['/api/json', '/api/json', '/api/error', '/api/private']) {
      outcomes.add(String((await getFrom(fixture.app, path)).headers['x-cache']));
    }
    outcomes.add(String((await getFrom(fixture.app, '/api/me', { Cookie: 'a=b' })).headers['x-cache']));
    expect([...outcomes].sort()).to.deep.equal(['BYPASS', 'HIT', 'MISS']);
  });
});

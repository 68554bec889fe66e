import { expect } from 'chai';
import express, { type Request } from 'express';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { ANY_MOUNT, OTHER_ROUTE, RouteNames, routeNamesOf } from '../../../src/http/route-names.js';
import { createCache, MemoryStore, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

/** A request as Express leaves it at a route: the route's pattern, the mount path it came through, its params. */
function routed(path: string, baseUrl: string, params: Record<string, string> = {}): Request {
  return { route: { path }, baseUrl, params } as unknown as Request;
}

describe('RouteNames', () => {
  it('names a route by its mount path and pattern, never the raw URL', () => {
    const names = new RouteNames();
    expect(names.of(routed('/items/:id', '', { id: '42' }))).to.equal('/items/:id');
    expect(names.of(routed('/items/:id', '/api', { id: '42' }))).to.equal('/api/items/:id');
    expect(names.of({ baseUrl: '/api', params: {} } as unknown as Request), 'before routing').to.equal(
      undefined,
    );
  });

  it("names a mount path's segments after its parameters when the router sees them (mergeParams)", () => {
    const names = new RouteNames();
    const params = (tenant: string) => ({ tenant, id: '1' });
    expect(names.of(routed('/items/:id', '/tenants/acme', params('acme')))).to.equal(
      '/tenants/:tenant/items/:id',
    );
    expect(names.of(routed('/items/:id', '/tenants/a%20b', params('a b')))).to.equal(
      '/tenants/:tenant/items/:id',
    );
    // A parameter of the route's own pattern is not the mount's.
    expect(names.of(routed('/:id', '/orders/7', { id: '7' }))).to.equal('/orders/7/:id');
  });

  it('names a mount path over 64 characters, and every new name with a mount path past 256, by the pattern alone', () => {
    const names = new RouteNames();
    expect(names.of(routed('/items/:id', `/tenants/${'x'.repeat(60)}`))).to.equal(`${ANY_MOUNT}/items/:id`);
    expect(names.of(routed('/checkout/:id', '/api'))).to.equal('/api/checkout/:id');
    for (let tenant = 0; tenant < 255; tenant++) {
      expect(names.of(routed('/items/:id', `/tenants/t${tenant}`))).to.equal(`/tenants/t${tenant}/items/:id`);
    }
    expect(names.of(routed('/items/:id', '/tenants/late'))).to.equal(`${ANY_MOUNT}/items/:id`);
    expect(names.of(routed('/other/:id', '/late'))).to.equal(`${ANY_MOUNT}/other/:id`);
    expect(names.of(routed('/top/:id', '')), 'a route without a mount path: its pattern, always').to.equal(
      '/top/:id',
    );
    expect(names.of(routed('/checkout/:id', '/api')), 'a name reported before keeps it').to.equal(
      '/api/checkout/:id',
    );
  });

  it('lower-cases the segments of a mount path unless routing is case-sensitive, as Express matches them', () => {
    const names = new RouteNames();
    const app = (caseSensitive: boolean) => ({
      get: (setting: string) => setting === 'case sensitive routing' && caseSensitive,
    });
    const at = (baseUrl: string, caseSensitive: boolean) =>
      names.of({
        ...routed('/items/:id', baseUrl, { tenant: 'AcMe' }),
        app: app(caseSensitive),
      } as unknown as Request);
    expect(at('/API/Tenants/AcMe', false)).to.equal('/api/tenants/:tenant/items/:id');
    expect(at('/API/Tenants/AcMe', true)).to.equal('/API/Tenants/:tenant/items/:id');
  });

  it("reads the route names of entries within the same bounds: a new one with a mount path past 256, or one too long, '<other>'", () => {
    const names = new RouteNames();
    expect(names.stored('/api/items/:id')).to.equal('/api/items/:id');
    expect(names.stored(`/tenants/${'x'.repeat(1100)}/items/:id`)).to.equal(OTHER_ROUTE);
    expect(names.of(routed('/top/:id', ''))).to.equal('/top/:id');
    for (let tenant = 0; tenant < 255; tenant++) names.stored(`/tenants/t${tenant}/items/:id`);
    expect(names.stored('/tenants/late/items/:id')).to.equal(OTHER_ROUTE);
    // What this cache named, and patterns alone, read back as they were stored, past the bound too.
    for (const name of ['/api/items/:id', '/top/:id', `${ANY_MOUNT}/items/:id`, '<unmatched>']) {
      expect(names.stored(name)).to.equal(name);
    }
  });

  it('keeps one set of names per cache, whatever number of middlewares it has', () => {
    const cache = {};
    expect(routeNamesOf(cache)).to.equal(routeNamesOf(cache));
    expect(routeNamesOf(cache)).to.not.equal(routeNamesOf({}));
  });

  it('reports at most 256 names and one per pattern past them, none longer than its mount bound, whatever clients send (property)', () => {
    const patterns = ['/items/:id', '/', '/a/:b/c'];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(...patterns), fc.string({ maxLength: 100 }), fc.string({ maxLength: 20 })),
          {
            maxLength: 400,
          },
        ),
        (requests) => {
          const names = new RouteNames();
          const seen = new Set(
            requests.map(([path, mount, param]) => names.of(routed(path, `/${mount}`, { param })) as string),
          );
          expect(seen.size).to.be.at.most(256 + patterns.length);
          for (const name of seen)
            expect(name.length).to.be.at.most(64 + Math.max(...patterns.map((p) => p.length)));
        },
      ),
    );
  });
});

// `req.baseUrl` is the path a router matched: under `app.use('/tenants/:tenant', router)` it holds the
// tenant, which the client chooses. Metrics keep a series per route name: the names must stay bounded.
describe('responseCache route names under a mount path with parameters', () => {
  async function tenantApp(mergeParams: boolean) {
    const registry = new Registry();
    const cache = createCache({
      store: new MemoryStore(),
      prefix: 'rn:',
      ttl: 60,
      registry,
      logger: silentLogger,
    });
    const requests: CacheEventMap['request'][0][] = [];
    cache.events.on('request', (event) => requests.push(event));
    const tenants = express.Router({ mergeParams });
    tenants.get('/items/:id', (req, res) => {
      res.json({ tenant: req.baseUrl, id: req.params.id });
    });
    const app = express();
    app.use(responseCache(cache));
    app.get('/api/checkout/:id', (req, res) => {
      res.json({ checkout: req.params.id });
    });
    app.use('/tenants/:tenant', tenants);
    return { app: await served(app), cache, registry, requests };
  }

  async function routeLabels(registry: Registry): Promise<Set<string | number | undefined>> {
    const metric = await registry.getSingleMetric('cache_aside_request_duration_seconds')?.get();
    return new Set(metric?.values.map(({ labels }) => labels.route));
  }

  it('keeps the request metric to 256 names with a mount path and the pattern alone for 300 tenants, long ones included', async () => {
    const { app, cache, registry, requests } = await tenantApp(false);
    await request(app).get('/api/checkout/7').expect(200);
    for (let tenant = 0; tenant < 300; tenant++) {
      const name = tenant % 10 === 5 ? `t${tenant}-${'x'.repeat(5000)}` : `t${tenant}`;
      const response = await request(app).get(`/tenants/${name}/items/1`).expect(200);
      expect(response.body, 'each tenant its own response').to.deep.equal({
        tenant: `/tenants/${name}`,
        id: '1',
      });
    }
    expect((await request(app).get('/api/checkout/7').expect(200)).headers['x-cache']).to.equal('HIT');
    // Past the bound, a hit (answered before routing) is named as its miss was.
    expect((await request(app).get('/tenants/t299/items/1').expect(200)).headers['x-cache']).to.equal('HIT');
    expect(requests.at(-1)).to.deep.include({ route: `${ANY_MOUNT}/items/:id`, result: 'hit' });
    await request(app).get('/api/checkout/7').expect(200);

    const labels = await routeLabels(registry);
    expect(labels.size, '256 tenants, the pattern alone, and the route without a mount path').to.equal(258);
    expect(labels.has('/api/checkout/:id') && labels.has(`${ANY_MOUNT}/items/:id`)).to.equal(true);
    expect(
      [...labels].every((label) => String(label).length < 100),
      'no long tenant in a label',
    ).to.equal(true);
    expect(requests.at(-1)).to.deep.include({ route: '/api/checkout/:id', result: 'hit' });
    await cache.close();
  });

  it('names the tenant segment after its parameter with mergeParams: one name for every tenant', async () => {
    const { app, cache, registry } = await tenantApp(true);
    for (const tenant of ['acme', 'globex', 'initech'])
      await request(app).get(`/tenants/${tenant}/items/1`).expect(200);
    expect(await routeLabels(registry)).to.deep.equal(new Set(['/tenants/:tenant/items/:id']));
    await cache.close();
  });
});

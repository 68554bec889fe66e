import { expect } from 'chai';
import express, { type Request } from 'express';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { boundedRouteName, routeNameOf } from '../../../src/http/route-names.js';
import { createCache, MemoryStore, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

/** A request as Express leaves it at a route: its `Route` object, the mount path it came through, its params. */
function routed(route: object, baseUrl: string, params: Record<string, string> = {}): Request {
  return { route, baseUrl, params } as unknown as Request;
}

describe('routeNameOf', () => {
  it('names a route without a mount path, or under one without parameters, by its patterns', () => {
    const route = { path: '/items/:id' };
    expect(routeNameOf(routed(route, ''))).to.equal('/items/:id');
    expect(routeNameOf(routed({ path: '/items/:id' }, '/api'))).to.equal('/api/items/:id');
    expect(routeNameOf({ baseUrl: '/api', params: {} } as unknown as Request)).to.equal(undefined);
  });

  it("names a mount path's segments after its parameters when the router sees them (mergeParams)", () => {
    const route = { path: '/items/:id' };
    expect(routeNameOf(routed(route, '/tenants/acme', { tenant: 'acme', id: '1' }))).to.equal(
      '/tenants/:tenant/items/:id',
    );
    expect(routeNameOf(routed(route, '/tenants/a%20b', { tenant: 'a b', id: '1' }))).to.equal(
      '/tenants/:tenant/items/:id',
    );
  });

  it('names the segments of a mount path that differ between requests of one route `*`, from the second value on', () => {
    const route = { path: '/items/:id' };
    expect(routeNameOf(routed(route, '/tenants/acme'))).to.equal('/tenants/acme/items/:id');
    expect(routeNameOf(routed(route, '/tenants/globex'))).to.equal('/tenants/*/items/:id');
    expect(routeNameOf(routed(route, '/tenants/acme'))).to.equal('/tenants/*/items/:id');
    const wildcard = { path: '/:name' };
    expect(routeNameOf(routed(wildcard, '/files/a'))).to.equal('/files/a/:name');
    expect(routeNameOf(routed(wildcard, '/files/a/b'))).to.equal('/files/**/:name');
    expect(routeNameOf(routed(wildcard, '/other'))).to.equal('/**/:name');
  });

  it('never names a segment longer than 64 characters, or past the 16th, as it is', () => {
    const long = 'x'.repeat(65);
    expect(routeNameOf(routed({ path: '/items/:id' }, `/tenants/${long}`))).to.equal('/tenants/*/items/:id');
    const deep = `/${Array.from({ length: 20 }, () => 'a').join('/')}`;
    expect(routeNameOf(routed({ path: '/x' }, deep))).to.equal(
      `/${Array.from({ length: 16 }, () => 'a').join('/')}/**/x`,
    );
    expect(boundedRouteName(`/t/${long}/items/:id`)).to.equal('/t/*/items/:id');
  });

  it('gives one route few names, however many mount paths clients send (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ minLength: 0, maxLength: 80 }), { minLength: 1, maxLength: 20 }), {
          minLength: 1,
          maxLength: 60,
        }),
        (mountPaths) => {
          const route = { path: '/items/:id' };
          const names = new Set(
            mountPaths.map((segments) =>
              routeNameOf(
                routed(route, `/${segments.map((segment) => segment.replaceAll('/', '')).join('/')}`),
              ),
            ),
          );
          // The first path's own name, then each change makes one more segment `*` or cuts the path
          // shorter (17 segments at most, then `**`): a few dozen names at the very most.
          expect(names.size).to.be.at.most(36);
          for (const name of names) expect(name?.length).to.be.at.most(17 * 65 + 20);
        },
      ),
    );
  });
});

// `req.baseUrl` is the path a router matched: under `app.use('/tenants/:tenant', router)` it holds the
// tenant, which the client chooses. Metrics keep a series per route name: a route keeps few names.
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

  it('keeps a route to two names for 130 tenants, long ones included, and other routes keep theirs', async () => {
    const { app, cache, registry, requests } = await tenantApp(false);
    for (let tenant = 0; tenant < 130; tenant++) {
      const name = tenant % 10 === 5 ? `t${tenant}-${'x'.repeat(5000)}` : `t${tenant}`;
      const response = await request(app).get(`/tenants/${name}/items/1`).expect(200);
      expect(response.body, 'each tenant its own response').to.deep.equal({
        tenant: `/tenants/${name}`,
        id: '1',
      });
    }
    await request(app).get('/api/checkout/7').expect(200);
    await request(app).get('/api/checkout/7').expect(200);

    // The first tenant names the route until a second one shows the segment varies.
    expect(await routeLabels(registry)).to.deep.equal(
      new Set(['/tenants/t0/items/:id', '/tenants/*/items/:id', '/api/checkout/:id']),
    );
    expect(requests.slice(1, 130).every(({ route }) => route === '/tenants/*/items/:id')).to.equal(true);
    expect(requests.at(-1)).to.deep.include({ route: '/api/checkout/:id', result: 'hit' });
    await cache.close();
  });

  it('names the tenant segment after its parameter with mergeParams, from the first request', async () => {
    const { app, cache, registry } = await tenantApp(true);
    for (const tenant of ['acme', 'globex', 'initech'])
      await request(app).get(`/tenants/${tenant}/items/1`).expect(200);
    expect(await routeLabels(registry)).to.deep.equal(new Set(['/tenants/:tenant/items/:id']));
    await cache.close();
  });
});

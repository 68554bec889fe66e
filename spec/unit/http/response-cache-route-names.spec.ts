import { expect } from 'chai';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { OTHER_ROUTES, RouteNames } from '../../../src/http/route-names.js';
import { createCache, MemoryStore, responseCache } from '../../../src/index.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { served } from '../../support/served.js';

describe('RouteNames', () => {
  it('reports the first names as they are, every later one as <other>, and hears of the first later one once', () => {
    const overflows: [string, number][] = [];
    const names = new RouteNames(2, (route, limit) => overflows.push([route, limit]));
    expect(['/a', '/b', '/a', '/c', '/d', '/b'].map((route) => names.nameOf(route))).to.deep.equal([
      '/a',
      '/b',
      '/a',
      OTHER_ROUTES,
      OTHER_ROUTES,
      '/b',
    ]);
    expect(overflows).to.deep.equal([['/c', 2]]);
  });
});

// `req.baseUrl` is the path a router matched: under `app.use('/tenants/:tenant', router)` it holds the
// tenant, which the client chooses. Metrics keep a series per route name, so the names must stay bounded.
describe('responseCache route names under a mount path with parameters', () => {
  const ROUTE_NAME_LIMIT = 100;

  it('keeps the request metric to 100 route names and <other>, and warns once', async () => {
    const registry = new Registry();
    const log = new RecordingLogger('warn');
    const cache = createCache({
      store: new MemoryStore(),
      prefix: 'rn:',
      ttl: 60,
      registry,
      logger: log.logger,
    });
    const requests: CacheEventMap['request'][0][] = [];
    cache.events.on('request', (event) => requests.push(event));
    const tenants = express.Router({ mergeParams: true });
    tenants.get('/items/:id', responseCache(cache), (req, res) => {
      // The mount's parameter reaches the route through `mergeParams`, which the path type cannot show.
      const { tenant, id } = req.params as Record<string, string>;
      res.json({ tenant, id });
    });
    const app = express();
    app.use('/tenants/:tenant', tenants);
    const server = await served(app);

    for (let tenant = 0; tenant < ROUTE_NAME_LIMIT + 30; tenant++) {
      const response = await request(server).get(`/tenants/t${tenant}/items/1`).expect(200);
      expect(response.body, 'each tenant its own response').to.deep.equal({ tenant: `t${tenant}`, id: '1' });
    }
    // A name reported before the bound keeps its own name after it.
    expect((await request(server).get('/tenants/t7/items/1')).headers['x-cache']).to.equal('HIT');

    const routes = requests.map(({ route }) => route);
    expect(new Set(routes).size).to.equal(ROUTE_NAME_LIMIT + 1);
    expect(routes.slice(0, 2)).to.deep.equal(['/tenants/t0/items/:id', '/tenants/t1/items/:id']);
    expect(routes.slice(ROUTE_NAME_LIMIT, ROUTE_NAME_LIMIT + 30)).to.deep.equal(
      Array.from({ length: 30 }, () => OTHER_ROUTES),
    );
    expect(routes.at(-1)).to.equal('/tenants/t7/items/:id');
    const metric = await registry.getSingleMetric('cache_aside_request_duration_seconds')?.get();
    const labelled = new Set(metric?.values.map(({ labels }) => labels.route));
    expect(labelled.size).to.equal(ROUTE_NAME_LIMIT + 1);
    expect(labelled.has(OTHER_ROUTES)).to.equal(true);
    expect(labelled.has(`/tenants/t${ROUTE_NAME_LIMIT}/items/:id`)).to.equal(false);

    const warnings = log.at('warn').filter(({ message }) => message.includes('route names'));
    expect(warnings).to.have.lengthOf(1);
    expect(warnings[0]).to.include({
      route: `/tenants/t${ROUTE_NAME_LIMIT}/items/:id`,
      limit: ROUTE_NAME_LIMIT,
    });
    await cache.close();
  });
});

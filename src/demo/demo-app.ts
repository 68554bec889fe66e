import express, { type Express } from 'express';
import type { Cache } from '../engine/cache.js';
import { responseCache } from '../http/response-cache.js';
import { metricsHandler } from '../observability/metrics-handler.js';
import type { MockDataStore } from './mock-data-store.js';

/** Freshness of the demo's responses, short so stale serving is quick to see. */
export const DEMO_TTL_SECONDS = 10;
/** How long a response may still be served after it went stale. */
export const DEMO_STALE_TTL_SECONDS = 300;

/** The demo API: two cached resources over a slow data source, an update route, and controls. */
export function createDemoApp(cache: Cache, dataStore: MockDataStore): Express {
  const app = express();
  app.use(express.json());

  app.get('/metrics', metricsHandler());

  const cacheRecord = (kind: string) =>
    responseCache(cache, {
      ttl: DEMO_TTL_SECONDS,
      staleTtl: DEMO_STALE_TTL_SECONDS,
      tags: (req) => [`${kind}:${req.params.id}`],
    });

  app.get('/api/users/:id', cacheRecord('user'), async (req, res) => {
    const user = await dataStore.get(`user:${req.params.id}`);
    if (user === undefined) res.status(404).json({ error: 'no such user' });
    else res.json(user);
  });

  app.get('/api/products/:id', cacheRecord('product'), async (req, res) => {
    const product = await dataStore.get(`product:${req.params.id}`);
    if (product === undefined) res.status(404).json({ error: 'no such product' });
    else res.json(product);
  });

  app.put('/api/users/:id', async (req, res) => {
    await dataStore.update(`user:${req.params.id}`, { id: Number(req.params.id), ...req.body });
    await cache.invalidateTags([`user:${req.params.id}`]);
    res.sendStatus(204);
  });

  app.post('/api/admin/data-source/fail', (_req, res) => {
    dataStore.failing = true;
    res.json({ failing: true });
  });

  app.post('/api/admin/data-source/recover', (_req, res) => {
    dataStore.failing = false;
    res.json({ failing: false });
  });

  app.get('/api/stats', (_req, res) => {
    res.json({
      cache: cache.stats(),
      dataSourceQueries: dataStore.queries,
      dataSourceFailing: dataStore.failing,
    });
  });

  return app;
}

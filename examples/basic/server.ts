// One cached route over a slow lookup, tagged per item; a PUT that updates an item and invalidates its
// tag, so the next GET is fresh; Prometheus metrics on /metrics.
import express from 'express';
import { createCache, metricsHandler, responseCache } from 'express-cache-aside';
import { createClient } from 'redis';

interface Item {
  id: string;
  name: string;
  price: number;
}

// Stands in for your database: every read takes 100 ms.
const items = new Map<string, Item>([
  ['1', { id: '1', name: 'Teapot', price: 25 }],
  ['2', { id: '2', name: 'Kettle', price: 40 }],
]);
async function findItem(id: string): Promise<Item | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return items.get(id);
}

const redis = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const cache = createCache({ redis, prefix: 'basic:', ttl: 60 });

const app = express();
app.use(express.json());

// Cached for 30 s. The tag names the item, so that any change to it can drop every cached response
// that shows it (here one; in a real app also the lists and pages it appears in).
app.get(
  '/items/:id',
  responseCache(cache, { ttl: 30, tags: (req) => [`item:${req.params.id}`] }),
  async (req, res) => {
    const item = await findItem(req.params.id);
    if (item === undefined) res.status(404).json({ error: 'no such item' });
    else res.json(item);
  },
);

// Writes are never cached (only GET and HEAD are). After the write, invalidate the item's tag.
app.put('/items/:id', async (req, res) => {
  const item = items.get(req.params.id);
  const body: unknown = req.body;
  const name = typeof body === 'object' && body !== null && 'name' in body ? body.name : undefined;
  if (item === undefined) {
    res.status(404).json({ error: 'no such item' });
    return;
  }
  if (typeof name !== 'string' || name === '') {
    res.status(400).json({ error: 'send a JSON body with a non-empty "name"' });
    return;
  }
  const updated = { ...item, name };
  items.set(item.id, updated);
  await cache.invalidateTags([`item:${item.id}`]);
  res.json(updated);
});

// Metrics of every cache and route, in prom-client's default registry.
app.get('/metrics', metricsHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  const base = `http://127.0.0.1:${port}`;
  console.log(`listening on ${base}; try:
  curl -i ${base}/items/1      # X-Cache: MISS, about 100 ms
  curl -i ${base}/items/1      # X-Cache: HIT, no lookup
  curl -i -X PUT -H 'Content-Type: application/json' -d '{"name":"Blue teapot"}' ${base}/items/1
  curl -i ${base}/items/1      # X-Cache: MISS: the PUT invalidated the item's tag
  curl -s ${base}/metrics | grep cache_aside_request_duration_seconds_count`);
});

process.once('SIGINT', () => {
  server.close();
  // close() waits for background refreshes; the Redis client is yours to close.
  void cache.close().then(() => redis.close());
});

// An app behind one reverse proxy (nginx, a load balancer, a CDN): `trust proxy` so that the forwarded
// host and scheme count, a `query` option so that stray parameters cannot each create an entry, and a
// DELETE that invalidates the entry of the host it was sent to with `responseCacheKey({ url, origin: req })`.
import express from 'express';
import { createCache, metricsHandler, responseCache, responseCacheKey } from 'express-cache-aside';
import { createClient } from 'redis';

interface Product {
  id: string;
  name: string;
}

// Stands in for your database: every read takes 100 ms.
const products = new Map<string, Product>(
  ['teapot', 'kettle', 'cups', 'tray', 'spoon'].map((name, index) => [
    String(index + 1),
    { id: String(index + 1), name },
  ]),
);
const slowly = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 100));

const redis = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const cache = createCache({ redis, prefix: 'proxied:', ttl: 60 });

const app = express();
// Exactly one proxy in front: believe the X-Forwarded-Host and X-Forwarded-Proto it sets, and nothing
// a client sends past it. The cache key's origin (scheme and host) follows this setting, as
// `req.protocol` and `req.hostname` do.
app.set('trust proxy', 1);

// Only `page` and `sort` enter the key; any other parameter (`?utm_source=…`, a cache-buster) is
// removed from the request before the handler runs, so it neither creates an entry nor reaches it.
app.get(
  '/products',
  responseCache(cache, { ttl: 60, query: { include: ['page', 'sort'] }, tags: ['product-lists'] }),
  async (req, res) => {
    const page = Math.max(1, Number(req.query.page) || 1);
    const list = [...products.values()].sort((a, b) =>
      req.query.sort === 'name' ? a.name.localeCompare(b.name) : Number(a.id) - Number(b.id),
    );
    res.json(await slowly({ page, query: req.query, products: list.slice((page - 1) * 3, page * 3) }));
  },
);

app.get('/products/:id', responseCache(cache, { ttl: 60 }), async (req, res) => {
  const product = await slowly(products.get(req.params.id));
  if (product === undefined) res.status(404).json({ error: 'no such product' });
  // A link built from the request (`req.host` is Express 5's; Express 4 has `req.hostname`) shows why
  // the origin is in the key: each host gets its own entry.
  else res.json({ ...product, self: `${req.protocol}://${req.host}/products/${product.id}` });
});

// Keys hold the origin: `origin: req` names the entry at the host and scheme this DELETE came in on,
// as the proxy forwarded them. The lists are dropped through their tag, which spans every host.
app.delete('/products/:id', async (req, res) => {
  if (!products.delete(req.params.id)) {
    res.status(404).json({ error: 'no such product' });
    return;
  }
  await Promise.all([
    cache.invalidate(responseCacheKey({ url: `/products/${req.params.id}`, origin: req })),
    cache.invalidateTags(['product-lists']),
  ]);
  res.sendStatus(204);
});

app.get('/metrics', metricsHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  const base = `http://127.0.0.1:${port}`;
  // curl plays the proxy here: it sends the X-Forwarded-* headers a proxy would add.
  const proxied = `-H 'X-Forwarded-Host: shop.example' -H 'X-Forwarded-Proto: https'`;
  console.log(`listening on ${base}; try:
  curl -i ${proxied} '${base}/products?page=1&utm_source=mail'  # MISS; the handler sees only page
  curl -i ${proxied} '${base}/products?page=1&utm_source=feed'  # HIT: same key
  curl -i ${proxied} ${base}/products/2     # MISS, then HIT; "self" is https://shop.example/products/2
  curl -i ${base}/products/2                # MISS: another origin (http://127.0.0.1:${port}), another entry
  curl -i ${proxied} -X DELETE ${base}/products/2
  curl -i ${proxied} ${base}/products/2     # 404 (MISS): the entry of https://shop.example is gone`);
});

process.once('SIGINT', () => {
  server.close();
  void cache.close().then(() => redis.close());
});

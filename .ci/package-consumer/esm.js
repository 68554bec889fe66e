// (a) The package as an ES module: the named exports, and one cached route end to end on the app's own Express.
import assert from 'node:assert/strict';
import express from 'express';
import { createCache, MemoryStore, metricsHandler, responseCache } from 'express-cache-aside';

for (const [name, value] of Object.entries({ createCache, responseCache, metricsHandler, MemoryStore })) {
  assert.equal(typeof value, 'function', `${name} is exported`);
}

const cache = createCache({ store: new MemoryStore(), registry: false });
let runs = 0;
const app = express();
app.get('/items/:id', responseCache(cache, { ttl: 60 }), (req, res) => {
  runs += 1;
  res.json({ id: req.params.id });
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
try {
  const url = `http://127.0.0.1:${server.address().port}/items/1`;
  const first = await fetch(url);
  const second = await fetch(url);
  assert.equal(first.headers.get('x-cache'), 'MISS');
  assert.equal(second.headers.get('x-cache'), 'HIT');
  assert.deepEqual(await second.json(), { id: '1' });
  assert.equal(runs, 1, 'the handler ran once');
} finally {
  server.close();
  await cache.close();
}
console.log('import works; GET twice through responseCache: MISS then HIT, handler ran once');

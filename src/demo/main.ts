import type { Server } from 'node:http';
import { collectDefaultMetrics } from 'prom-client';
import { createCache } from '../create-cache.js';
import { createDemoApp, DEMO_STALE_TTL_SECONDS, DEMO_TTL_SECONDS } from './demo-app.js';
import { chooseDemoBackend } from './demo-backend.js';
import { MockDataStore } from './mock-data-store.js';

async function main(): Promise<void> {
  // Process health beside the cache's metrics, on the same /metrics page (prom-client's default
  // registry): CPU, memory, heap, GC and the event loop lag (`nodejs_eventloop_lag_p99_seconds`),
  // which the dashboard's Process row reads.
  collectDefaultMetrics();
  const backend = await chooseDemoBackend();
  const cache = createCache({
    ...(backend.redis === undefined ? { store: backend.store } : { redis: backend.redis }),
    prefix: 'demo:',
    name: 'demo',
    logLevel: 'info',
  });
  const dataStore = new MockDataStore(Number(process.env.DATA_LATENCY_MS ?? 100));
  const app = createDemoApp(cache, dataStore);

  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 3000);
  const server: Server = app.listen(port, host, () => {
    const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    console.log(`express-cache-aside demo on ${base}; cache: ${backend.description}`);
    console.log(`
Try (the data source takes ${dataStore.latencyMs} ms; responses are fresh ${DEMO_TTL_SECONDS} s, then servable stale ${DEMO_STALE_TTL_SECONDS} s):
  curl -i ${base}/api/users/1                  # X-Cache: MISS, slow
  curl -i ${base}/api/users/1                  # X-Cache: HIT, fast
  curl -i -X PUT -H 'Content-Type: application/json' -d '{"name":"Alice B."}' ${base}/api/users/1
  curl -i ${base}/api/users/1                  # MISS again: the update invalidated the user's tag
  curl -i -X POST ${base}/api/admin/data-source/fail
  sleep ${DEMO_TTL_SECONDS}; curl -i ${base}/api/users/1   # X-Cache: STALE: served although the data source fails
  curl -i -X POST ${base}/api/admin/data-source/recover
  curl ${base}/api/stats                       # hits, misses, stale, data source queries
  curl ${base}/metrics                         # Prometheus metrics
`);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    // Ctrl-C reaches every process of the group (npm, tsx and this one): one shutdown is enough.
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    // Whatever happens below, the demo does not outlive its signal by more than a few seconds.
    setTimeout(() => process.exit(1), 5000).unref();
    server.close();
    await cache.close();
    await backend.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

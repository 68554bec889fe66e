// Entry point of one app instance in a child process (see worker-cluster.ts): an Express app with
// its own caches over the shared Redis, listening on 127.0.0.1:0 and answering stats over IPC.
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { createCache } from '../../src/create-cache.js';
import type { Cache } from '../../src/engine/cache.js';
import { responseCache } from '../../src/http/response-cache.js';
import { createRedisClient } from '../../src/redis-connection.js';
import { silentLogger } from './silent-logger.js';
import type { FailSafeWorkerConfig, WorkerLoads, WorkerReply, WorkerRequest } from './worker-cluster.js';

const config = JSON.parse(process.env.FAIL_SAFE_WORKER_CONFIG ?? '{}') as FailSafeWorkerConfig;
const loads: WorkerLoads = { locked: 0, unlocked: 0, http: 0 };

// Connected before the caches are made: createCache refuses a client that is not.
const redis = await createRedisClient({ url: config.redisUrl }).connect();
const common = {
  redis,
  registry: false as const,
  logger: silentLogger,
  ...(config.redisTimeoutMs === undefined ? {} : { redisTimeoutMs: config.redisTimeoutMs }),
};
const lockedCache = createCache({ ...common, prefix: config.prefix });
const unlockedCache = createCache({ ...common, prefix: `${config.prefix}unlocked:`, lockTtlMs: 0 });

/** A loader that takes `loadDelayMs` and says which worker ran it, and how many times. */
function loaderFor(route: keyof WorkerLoads): (key: string) => Promise<object> {
  return async (key) => {
    loads[route]++;
    await sleep(config.loadDelayMs);
    return { key, worker: process.pid, run: loads[route] };
  };
}

function engineRoute(cache: Cache, route: keyof WorkerLoads): express.RequestHandler {
  return async (req, res) => {
    const outcome = await cache.lookup(`item:${String(req.params.id)}`, loaderFor(route));
    res.set('X-Cache', outcome.result.toUpperCase()).json(outcome.value);
  };
}

const app = express();
app.get('/engine/:id', engineRoute(lockedCache, 'locked'));
app.get('/engine-unlocked/:id', engineRoute(unlockedCache, 'unlocked'));
app.get('/http/:id', responseCache(lockedCache), async (req, res) => {
  res.json(await loaderFor('http')(`item:${String(req.params.id)}`));
});

let server: Server | undefined;

async function main(): Promise<void> {
  server = app.listen(0, '127.0.0.1', () => {
    const address = server?.address();
    if (address !== null && typeof address === 'object') {
      send({ type: 'listening', port: address.port });
    }
  });
}

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

async function stop(): Promise<void> {
  server?.closeAllConnections();
  server?.close();
  await Promise.allSettled([lockedCache.close(), unlockedCache.close()]);
  redis.destroy();
  process.exit(0);
}

process.on('message', (message: WorkerRequest) => {
  if (message.type === 'stats') {
    send({ type: 'stats', id: message.id, loads, stats: lockedCache.stats() });
  } else if (message.type === 'stop') {
    void stop();
  }
});
// The spec process may die without saying stop; a worker must not outlive it.
process.on('disconnect', () => void stop());

main().catch((error: unknown) => {
  console.error('fail-safe worker failed to start:', error);
  process.exit(1);
});

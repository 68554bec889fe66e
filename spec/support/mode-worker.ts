// Entry point of one app instance in a child process (see mode-worker-process.ts): an Express app whose
// `/items/:id` route goes through responseCache over the spec's Redis, listening on 127.0.0.1:0, whose
// cache mode the spec process reads and switches over IPC.
import type { Server } from 'node:http';
import express from 'express';
import { createCache } from '../../src/create-cache.js';
import { responseCache } from '../../src/http/response-cache.js';
import { createRedisClient } from '../../src/redis-connection.js';
import { PATIENT_REDIS_TIMEOUT_MS } from './busy-machine.js';
import type { ModeWorkerConfig, ModeWorkerReply, ModeWorkerRequest } from './mode-worker-process.js';
import { silentLogger } from './silent-logger.js';

const config = JSON.parse(process.env.MODE_WORKER_CONFIG ?? '{}') as ModeWorkerConfig;

// Connected before the cache is made: createCache refuses a client that is not.
const redis = await createRedisClient({ url: config.redisUrl }).connect();
const cache = createCache({
  redis,
  prefix: config.prefix,
  registry: false,
  logger: silentLogger,
  // Not about timeouts: a busy machine's slow reply must not turn a hit into a miss.
  redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
});
/** Switches this worker's cache heard of, as the spec reads them: `<mode> <fromAnotherInstance>`. */
const switches: string[] = [];
cache.events.on('mode', ({ mode, fromAnotherInstance }) => switches.push(`${mode} ${fromAnotherInstance}`));

let runs = 0;
const app = express();
app.get('/items/:id', responseCache(cache), (req, res) => {
  runs++;
  res.json({ id: req.params.id, worker: process.pid, run: runs });
});

function send(reply: ModeWorkerReply): void {
  process.send?.(reply);
}

async function answer(request: Exclude<ModeWorkerRequest, { type: 'stop' }>): Promise<unknown> {
  if (request.type === 'setMode') return cache.setMode(request.mode, { everywhere: request.everywhere });
  return { mode: cache.mode, switches };
}

const server: Server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') send({ type: 'ready', port: address.port });
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close();
  await cache.close().catch(() => undefined);
  redis.destroy();
  process.exit(0);
}

process.on('message', (request: ModeWorkerRequest) => {
  if (request.type === 'stop') {
    void stop();
    return;
  }
  answer(request).then(
    (result) => send({ type: 'result', id: request.id, result }),
    (error: unknown) =>
      send({
        type: 'error',
        id: request.id,
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});
// The spec process may die without saying stop; a worker must not outlive it.
process.on('disconnect', () => void stop());

// Entry point of one cache instance in a child process (see tier-worker-process.ts): a cache over
// the spec's Redis, with or without a memory tier, that runs the spec process's calls over IPC.
import { createCache } from '../../src/create-cache.js';
import { createRedisClient } from '../../src/redis-connection.js';
import { PATIENT_REDIS_TIMEOUT_MS } from './busy-machine.js';
import { silentLogger } from './silent-logger.js';
import type { TierWorkerConfig, TierWorkerReply, TierWorkerRequest } from './tier-worker-process.js';
import { versionedCache } from './versioned-cache.js';

const config = JSON.parse(process.env.TIER_WORKER_CONFIG ?? '{}') as TierWorkerConfig;

// Connected before the cache is made: createCache refuses a client that is not.
const redis = await createRedisClient({ url: config.redisUrl }).connect();
const cache = createCache({
  redis,
  prefix: config.prefix,
  registry: false,
  logger: silentLogger,
  memoryTier:
    config.memoryTierTtlMs === false
      ? false
      : { maxEntries: 1000, maxBytes: 1_000_000, ttlMs: config.memoryTierTtlMs },
  // Not about timeouts: a busy machine's slow reply must not fail a read or an invalidation.
  redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
  ...config.cacheOptions,
});
const instance = versionedCache(cache);

function send(reply: TierWorkerReply): void {
  process.send?.(reply);
}

async function run(request: Extract<TierWorkerRequest, { type: 'call' }>): Promise<unknown> {
  const method = instance[request.method] as (...args: unknown[]) => Promise<unknown>;
  return method(...request.args);
}

function codeOf(error: unknown): { code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { code } : {};
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await cache.close().catch(() => undefined);
  redis.destroy();
  process.exit(0);
}

process.on('message', (request: TierWorkerRequest) => {
  if (request.type === 'stop') {
    void stop();
  } else if (request.type === 'stats') {
    send({ type: 'result', id: request.id, result: cache.stats() });
  } else {
    run(request).then(
      (result) => send({ type: 'result', id: request.id, result }),
      (error: unknown) =>
        send({
          type: 'error',
          id: request.id,
          message: error instanceof Error ? error.message : String(error),
          ...codeOf(error),
        }),
    );
  }
});
// The spec process may die without saying stop; a worker must not outlive it.
process.on('disconnect', () => void stop());

send({ type: 'ready' });

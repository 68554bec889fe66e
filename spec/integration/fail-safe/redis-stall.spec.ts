import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import winston from 'winston';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { createRedisClient, type RedisConnection } from '../../../src/redis-connection.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';
import { type RedisProcess, spawnRedis } from './support/redis-process.js';
import { eventually, startSteadyLoad } from './support/steady-load.js';

const REDIS_TIMEOUT_MS = 250;
const PAUSE_MS = 1500;
const LOAD_DELAY_MS = 5;
const PATHS = ['/items/1', '/items/2', '/items/3', '/items/4', '/items/5'];

describe('Redis stalled (CLIENT PAUSE) under steady load', function () {
  this.timeout(30_000);
  let redis: RedisProcess;
  let client: RedisConnection;
  let admin: RedisConnection;
  let cache: Cache;
  let app: CachedApp;

  before(async () => {
    redis = await spawnRedis();
    client = await createRedisClient({ url: redis.url }).connect();
    admin = await createRedisClient({ url: redis.url }).connect();
    cache = createCache({
      redis: client,
      prefix: 'stall:',
      registry: false,
      logger: winston.createLogger({ silent: true }),
      redisTimeoutMs: REDIS_TIMEOUT_MS,
    });
    app = await startCachedApp(cache, { delayMs: LOAD_DELAY_MS });
  });

  after(async () => {
    await app?.close();
    await cache?.close();
    client?.destroy();
    admin?.destroy();
    await redis?.dispose();
  });

  it('bounds every request by redisTimeoutMs, not by the stall, and serves hits again after it', async () => {
    let openedAtMs = Number.POSITIVE_INFINITY;
    cache.events.on('circuit', ({ open }) => {
      if (open) openedAtMs = Math.min(openedAtMs, performance.now());
    });
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 10 });
    await eventually(() => load.samples.filter((s) => s.xCache === 'HIT').length >= 5, 2000);

    await admin.sendCommand(['CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL']);
    const pausedAtMs = performance.now();
    await sleep(PAUSE_MS);
    const resumedAtMs = performance.now();
    const recovered = await eventually(
      () => load.samples.some((s) => s.sentAtMs > resumedAtMs && s.xCache === 'HIT'),
      4000,
    );
    const samples = await load.stop();

    expect(samples.filter((s) => s.status !== 200)).to.deep.equal([]);
    const duringStall = samples.filter((s) => s.sentAtMs >= pausedAtMs && s.sentAtMs < resumedAtMs);
    expect(duringStall.length).to.be.above(40);
    const notFromHandler = duringStall.filter((s) => s.xCache !== 'MISS' && s.sentAtMs > pausedAtMs + 20);
    expect(notFromHandler, 'answered by the handler').to.deep.equal([]);
    // At worst a request gives up twice (its read, then its write) before the circuit opens...
    const worstMs = Math.max(...duringStall.map((s) => s.latencyMs));
    expect(worstMs, 'slowest request during the stall').to.be.below(
      2 * REDIS_TIMEOUT_MS + LOAD_DELAY_MS + 100,
    );
    // ...and once it is open (and calls begun before have timed out), no request waits for Redis.
    const afterOpen = duringStall.filter((s) => s.sentAtMs > openedAtMs + REDIS_TIMEOUT_MS);
    expect(afterOpen.length, 'requests while the circuit was open').to.be.above(10);
    const latencies = afterOpen.map((s) => s.latencyMs).sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length / 2)], 'median').to.be.below(REDIS_TIMEOUT_MS / 5);
    const p90 = latencies[Math.floor(latencies.length * 0.9)];
    expect(p90, '90th percentile: requests no longer wait for Redis').to.be.below(REDIS_TIMEOUT_MS / 2);
    expect(recovered, 'hits resume after the stall').to.equal(true);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { createRedisClient, type RedisConnection } from '../../../src/redis-connection.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { type RedisProcess, spawnRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';
import { hitSince, largest, median, startSteadyLoad, warmUp } from './support/steady-load.js';

// Latencies here are compared with what a request costs on this machine at this moment (the
// requests answered before the stall), not with fixed limits: a busy machine slows every request,
// not only those that wait for Redis. What a request waited for is told by causes: which Redis
// calls were made, and whether an answer came before the stall ended.
// Above the default (200): a busy machine's pauses must not pass for Redis timeouts before the stall.
const REDIS_TIMEOUT_MS = 500;
const PAUSE_MS = 4000;
// Longer than the stall: no half-open probe reaches Redis while it is paused.
const HALF_OPEN_AFTER_MS = 6000;
const LOAD_DELAY_MS = 5;
const PATHS = ['/items/1', '/items/2', '/items/3', '/items/4', '/items/5'];

describe('Redis stalled (CLIENT PAUSE) under steady load', function () {
  this.timeout(60_000);
  let redis: RedisProcess;
  let client: RedisConnection;
  let admin: RedisConnection;
  let cache: Cache;
  let app: CachedApp;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await spawnRedis();
    client = await createRedisClient({ url: redis.url }).connect();
    admin = await createRedisClient({ url: redis.url }).connect();
    cache = createCache({
      redis: client,
      prefix: 'stall:',
      registry: false,
      logger: silentLogger,
      redisTimeoutMs: REDIS_TIMEOUT_MS,
      circuitBreakerHalfOpenAfterMs: HALF_OPEN_AFTER_MS,
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
    const circuit: { atMs: number; open: boolean }[] = [];
    cache.events.on('circuit', ({ open }) => circuit.push({ atMs: performance.now(), open }));
    /** When each call that reached Redis started. */
    const callStartsMs: number[] = [];
    cache.events.on('store-operation', ({ durationSeconds }) => {
      callStartsMs.push(performance.now() - durationSeconds * 1000);
    });
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 10 });
    await warmUp(load, () => circuit.at(-1)?.open === true, 'hits before the stall, with the circuit closed');

    await admin.sendCommand(['CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL']);
    const pausedAtMs = performance.now();
    // Requests answered by now are the baseline: what a request costs on this machine now.
    const beforeStall = [...load.samples];
    await sleep(PAUSE_MS);
    const resumedAtMs = performance.now();
    const recovered = await hitSince(load, resumedAtMs);
    const samples = await load.stop();

    expect(samples.filter((s) => s.status !== 200)).to.deep.equal([]);
    const duringStall = samples.filter((s) => s.sentAtMs >= pausedAtMs && s.sentAtMs < resumedAtMs);
    expect(duringStall.length).to.be.above(20);
    const notFromHandler = duringStall.filter((s) => s.xCache !== 'MISS' && s.sentAtMs > pausedAtMs + 20);
    expect(notFromHandler, 'answered by the handler').to.deep.equal([]);
    // Not by the stall: every request sent in its first half was answered before it ended.
    const waitedForTheStall = duringStall.filter(
      (s) => s.sentAtMs < pausedAtMs + PAUSE_MS / 2 && s.sentAtMs + s.latencyMs >= resumedAtMs,
    );
    expect(waitedForTheStall, 'answered only once the stall ended').to.deep.equal([]);
    // By redisTimeoutMs: at worst a request gives up twice (its read, then its write) before the
    // circuit opens, on top of what a request costs on this machine now (the slowest before the
    // stall, thrice: each of the two waits may end late too). Waiting for the stall would take PAUSE_MS.
    const slowestBeforeMs = largest(beforeStall.map((s) => s.latencyMs));
    expect(
      largest(duringStall.map((s) => s.latencyMs)),
      `slowest request during the stall (slowest before it: ${slowestBeforeMs.toFixed(0)} ms)`,
    ).to.be.below(2 * REDIS_TIMEOUT_MS + LOAD_DELAY_MS + 3 * slowestBeforeMs + 100);
    // ...and once it is open (and calls begun before have timed out), no request waits for Redis:
    // none reaches it, and they are answered as fast as requests were before the stall.
    const openedAtMs = circuit.find((c) => c.open && c.atMs >= pausedAtMs)?.atMs ?? Number.NaN;
    expect(openedAtMs, 'the circuit opened during the stall').to.be.within(pausedAtMs, resumedAtMs);
    expect(
      callStartsMs.filter((startMs) => startMs > openedAtMs && startMs < resumedAtMs),
      'Redis calls begun while the circuit was open',
    ).to.deep.equal([]);
    const afterOpen = duringStall.filter((s) => s.sentAtMs > openedAtMs + REDIS_TIMEOUT_MS);
    expect(afterOpen.length, 'requests while the circuit was open').to.be.above(10);
    const medianBeforeMs = median(beforeStall.map((s) => s.latencyMs));
    expect(
      median(afterOpen.map((s) => s.latencyMs)),
      `median while the circuit was open (before the stall: ${medianBeforeMs.toFixed(1)} ms)`,
    ).to.be.below(3 * medianBeforeMs + LOAD_DELAY_MS + 20);
    expect(recovered, 'hits resume after the stall').to.equal(true);
  });
});

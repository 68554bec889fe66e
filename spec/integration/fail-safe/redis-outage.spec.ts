import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createClient } from 'redis';
import winston from 'winston';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { responseCacheKey } from '../../../src/http/response-cache-key.js';
import { createRedisClient } from '../../../src/redis-connection.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';
import { type RedisProcess, spawnRedis } from './support/redis-process.js';
import { eventually, type LoadSample, startSteadyLoad } from './support/steady-load.js';

// Above the default (200), so that a request that waited for Redis stands out from a busy machine's noise.
const REDIS_TIMEOUT_MS = 400;
const HALF_OPEN_AFTER_MS = 2000;
const PATHS = ['/items/1', '/items/2', '/items/3', '/items/4', '/items/5'];

type AnyRedisClient = ReturnType<typeof createClient>;

interface Timeline {
  circuit: { atMs: number; open: boolean }[];
  /** Calls that reached Redis: when they started and ended, and the key of a failed one. */
  storeCalls: { startMs: number; endMs: number; operation: string; key?: string }[];
}

/** Records when the circuit opened and closed, and when a call reached Redis. */
function recordTimeline(cache: Cache): Timeline {
  const timeline: Timeline = { circuit: [], storeCalls: [] };
  cache.events.on('circuit', ({ open }) => timeline.circuit.push({ atMs: performance.now(), open }));
  cache.events.on('store-operation', ({ operation, durationSeconds }) => {
    const endMs = performance.now();
    timeline.storeCalls.push({ startMs: endMs - durationSeconds * 1000, endMs, operation });
  });
  // A failed call reports its key right after its `store-operation` event.
  cache.events.on('failure', ({ error, key }) => {
    const last = timeline.storeCalls.at(-1);
    if (last !== undefined && (error as { code?: string }).code !== 'E_CIRCUIT_OPEN') last.key ??= key;
  });
  return timeline;
}

/** Calls that started in `[fromMs, toMs)`. */
function callsStartedBetween(timeline: Timeline, fromMs: number, toMs: number): Timeline['storeCalls'] {
  return timeline.storeCalls.filter((call) => call.startMs >= fromMs && call.startMs < toMs);
}

function failed(samples: readonly LoadSample[]): LoadSample[] {
  return samples.filter(
    (sample) => sample.status !== 200 || !sample.body.includes(`"id":"${sample.path.split('/').pop()}"`),
  );
}

function maxLatencyMs(samples: readonly LoadSample[]): number {
  return Math.max(0, ...samples.map((sample) => sample.latencyMs));
}

describe('Redis stopped under steady load, then started again', function () {
  this.timeout(40_000);
  let redis: RedisProcess;
  let client: AnyRedisClient | undefined;
  let cache: Cache | undefined;
  let app: CachedApp | undefined;

  beforeEach(async () => {
    redis = await spawnRedis();
  });

  afterEach(async () => {
    await app?.close();
    await cache?.close();
    client?.destroy();
    await redis.dispose();
    app = undefined;
    cache = undefined;
    client = undefined;
  });

  async function startApp(redisClient: AnyRedisClient): Promise<{ app: CachedApp; timeline: Timeline }> {
    client = redisClient;
    await client.connect();
    cache = createCache({
      redis: client,
      prefix: 'outage:',
      ttl: 60,
      registry: false,
      logger: winston.createLogger({ silent: true }),
      redisTimeoutMs: REDIS_TIMEOUT_MS,
      circuitBreakerHalfOpenAfterMs: HALF_OPEN_AFTER_MS,
    });
    const timeline = recordTimeline(cache);
    app = await startCachedApp(cache);
    return { app, timeline };
  }

  it('createRedisClient: no request fails, the open circuit costs no Redis timeout, hits resume after the restart', async () => {
    const { app, timeline } = await startApp(createRedisClient({ url: redis.url }));
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 15 });
    expect(
      await eventually(() => load.samples.some((s) => s.xCache === 'HIT'), 2000),
      'hits before',
    ).to.equal(true);

    await redis.stop();
    const stoppedAtMs = performance.now();
    expect(await eventually(() => timeline.circuit.some((c) => c.open), 3000), 'circuit opens').to.equal(
      true,
    );
    await sleep(2500);
    await redis.start();
    const restartedAtMs = performance.now();
    const recovered = await eventually(
      () => load.samples.some((s) => s.sentAtMs > restartedAtMs && s.xCache === 'HIT'),
      8000,
    );
    await sleep(200);
    const samples = await load.stop();

    expect(failed(samples), 'failed or wrong answers').to.deep.equal([]);
    const openedAtMs = timeline.circuit.find((c) => c.open)?.atMs ?? Number.NaN;
    const closedAtMs = timeline.circuit.find((c) => !c.open && c.atMs > openedAtMs)?.atMs ?? Number.NaN;
    expect(openedAtMs - stoppedAtMs, 'the circuit opened soon after Redis stopped').to.be.below(1000);
    const whileOpen = samples.filter((s) => s.sentAtMs > openedAtMs && s.sentAtMs < restartedAtMs);
    expect(whileOpen.length, 'requests while the circuit was open').to.be.above(50);
    expect(new Set(whileOpen.map((s) => s.xCache)), 'answered by the handler').to.deep.equal(
      new Set(['MISS']),
    );
    const latencies = whileOpen.map((s) => s.latencyMs).sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length / 2)], 'median').to.be.below(REDIS_TIMEOUT_MS / 10);
    expect(latencies.at(-1), 'slowest: none waited for a Redis timeout').to.be.below(REDIS_TIMEOUT_MS * 0.75);
    const callsWhileOpen = callsStartedBetween(timeline, openedAtMs, restartedAtMs);
    const probes = Math.ceil((restartedAtMs - openedAtMs) / HALF_OPEN_AFTER_MS);
    expect(callsWhileOpen.length, 'only the half-open probes reach Redis').to.be.at.most(probes);
    expect(recovered, 'a hit after the restart').to.equal(true);
    const firstHit = samples.find((s) => s.sentAtMs > restartedAtMs && s.xCache === 'HIT') as LoadSample;
    // Reconnection (backoff capped at 2 s) plus the next probe (2 s): about 4 s at most.
    expect(firstHit.sentAtMs - restartedAtMs, 'hits resume within a few seconds').to.be.below(5000);
    expect(closedAtMs, 'the circuit closed again').to.be.above(restartedAtMs);
    expect(client?.isReady, 'the same client reconnected by itself').to.equal(true);
  });

  it('a plain createClient() (commands queue while offline): no request fails, and none waits once the circuit is open', async () => {
    const { app, timeline } = await startApp(createClient({ url: redis.url }));
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 15 });
    await eventually(() => load.samples.some((s) => s.xCache === 'HIT'), 2000);

    await redis.stop();
    const stoppedAtMs = performance.now();
    expect(await eventually(() => timeline.circuit.some((c) => c.open), 3000), 'circuit opens').to.equal(
      true,
    );
    await sleep(2500);
    await redis.start();
    const restartedAtMs = performance.now();
    const recovered = await eventually(
      () => load.samples.some((s) => s.sentAtMs > restartedAtMs && s.xCache === 'HIT'),
      8000,
    );
    const samples = await load.stop();

    expect(failed(samples), 'failed or wrong answers').to.deep.equal([]);
    const openedAtMs = timeline.circuit.find((c) => c.open)?.atMs ?? Number.NaN;
    const beforeOpen = samples.filter((s) => s.sentAtMs > stoppedAtMs && s.sentAtMs < openedAtMs);
    const whileOpen = samples.filter((s) => s.sentAtMs > openedAtMs && s.sentAtMs < restartedAtMs);
    // Until the circuit opens, a request gives up on Redis twice at most: its read, then its write.
    expect(maxLatencyMs(beforeOpen)).to.be.below(2 * REDIS_TIMEOUT_MS + 150);
    // While it is open, Redis sees one probe per half-open interval. The only requests that wait
    // are those sharing a load (same key) with a call begun before the circuit opened or with a
    // probe: one timeout at most. Requests for other keys do not wait for the probe.
    const probes = callsStartedBetween(timeline, openedAtMs, restartedAtMs);
    expect(probes.length).to.be.at.most(Math.ceil((restartedAtMs - openedAtMs) / HALF_OPEN_AFTER_MS));
    const sharesProbe = (s: LoadSample) =>
      probes.some(
        (probe) =>
          probe.key === cache?.entryKey(responseCacheKey(`${app?.baseUrl}${s.path}`)) &&
          probe.startMs - 50 < s.sentAtMs + s.latencyMs &&
          s.sentAtMs < probe.endMs,
      );
    const unexplained = whileOpen.filter(
      (s) =>
        s.latencyMs >= REDIS_TIMEOUT_MS / 2 && s.sentAtMs > openedAtMs + REDIS_TIMEOUT_MS && !sharesProbe(s),
    );
    expect(whileOpen.length, 'requests while the circuit was open').to.be.above(50);
    // Were requests held behind a probe, about ten per probe would be here; a busy machine makes one or two.
    expect(unexplained.length, 'requests that waited for Redis while the circuit was open').to.be.at.most(2);
    expect(maxLatencyMs(whileOpen)).to.be.below(REDIS_TIMEOUT_MS + 150);
    expect(recovered, 'hits resume after the restart').to.equal(true);
  });
});

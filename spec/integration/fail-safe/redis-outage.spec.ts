import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createClient } from 'redis';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { responseCacheKey } from '../../../src/http/response-cache-key.js';
import { createRedisClient } from '../../../src/redis-connection.js';
import { type OutageScenario, withRedisOutage } from '../../support/redis-outage.js';
import { useRedisPerTest } from '../../support/redis-server-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';
import {
  hitSince,
  type LoadSample,
  largest,
  median,
  type SteadyLoad,
  startSteadyLoad,
  warmUp,
} from './support/steady-load.js';

// Latencies here are compared with what a request cost on this machine just before Redis stopped
// (the baseline), not with fixed limits: a busy machine slows every request, not only those that
// wait for Redis. Whether a request waited for Redis is told by causes: which calls reached Redis,
// and which of them timed out.

// Above the default (200), so that a request that waited for Redis stands out from a busy machine's noise.
const REDIS_TIMEOUT_MS = 400;
const HALF_OPEN_AFTER_MS = 2000;
/** The default `circuitBreakerThreshold`: consecutive failures that open the circuit. */
const BREAKER_THRESHOLD = 5;
const LOAD_DELAY_MS = 5;
const PATHS = ['/items/1', '/items/2', '/items/3', '/items/4', '/items/5'];

type AnyRedisClient = ReturnType<typeof createClient>;

interface Timeline {
  circuit: { atMs: number; open: boolean }[];
  /** Calls that reached Redis: when they started and ended, whether they failed, and the key of a failed one. */
  storeCalls: { startMs: number; endMs: number; operation: string; failed: boolean; key?: string }[];
  /** Calls given up after redisTimeoutMs, when they were. */
  timeoutsAtMs: number[];
}

/** Records when the circuit opened and closed, and when a call reached Redis. */
function recordTimeline(cache: Cache): Timeline {
  const timeline: Timeline = { circuit: [], storeCalls: [], timeoutsAtMs: [] };
  cache.events.on('circuit', ({ open }) => timeline.circuit.push({ atMs: performance.now(), open }));
  cache.events.on('store-operation', ({ operation, durationSeconds, failed }) => {
    const endMs = performance.now();
    timeline.storeCalls.push({ startMs: endMs - durationSeconds * 1000, endMs, operation, failed });
  });
  // A failed call reports its key right after its `store-operation` event.
  cache.events.on('failure', ({ error, key }) => {
    const code = (error as { code?: string }).code;
    if (code === 'E_STORE_TIMEOUT') timeline.timeoutsAtMs.push(performance.now());
    const last = timeline.storeCalls.at(-1);
    if (last !== undefined && code !== 'E_CIRCUIT_OPEN') last.key ??= key;
  });
  return timeline;
}

/** Calls that started in `[fromMs, toMs)`. */
function callsStartedBetween(timeline: Timeline, fromMs: number, toMs: number): Timeline['storeCalls'] {
  return timeline.storeCalls.filter((call) => call.startMs >= fromMs && call.startMs < toMs);
}

/** When the circuit first opened at or after `sinceMs`; NaN if it did not. */
function openedSince(timeline: Timeline, sinceMs: number): number {
  return timeline.circuit.find((c) => c.open && c.atMs >= sinceMs)?.atMs ?? Number.NaN;
}

/** Redis stays down until the circuit opened (15 s at most), then 2.5 s more. */
function downWithCircuitOpen(timeline: Timeline): OutageScenario {
  return {
    noticed: ({ stoppingAtMs }) => !Number.isNaN(openedSince(timeline, stoppingAtMs)),
    noticedWithin: { timeoutMs: 15_000, intervalMs: 20, message: 'circuit opens' },
    whileDown: () => sleep(2500),
  };
}

function failed(samples: readonly LoadSample[]): LoadSample[] {
  return samples.filter(
    (sample) => sample.status !== 200 || !sample.body.includes(`"id":"${sample.path.split('/').pop()}"`),
  );
}

function latencies(samples: readonly LoadSample[]): number[] {
  return samples.map((sample) => sample.latencyMs);
}

describe('Redis stopped under steady load, then started again', function () {
  this.timeout(90_000);
  let client: AnyRedisClient | undefined;
  let cache: Cache | undefined;
  let app: CachedApp | undefined;

  const redis = useRedisPerTest(async () => {
    await app?.close();
    await cache?.close();
    client?.destroy();
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
      logger: silentLogger,
      redisTimeoutMs: REDIS_TIMEOUT_MS,
      circuitBreakerHalfOpenAfterMs: HALF_OPEN_AFTER_MS,
    });
    const timeline = recordTimeline(cache);
    app = await startCachedApp(cache, { delayMs: LOAD_DELAY_MS });
    return { app, timeline };
  }

  /** The baseline of what a request costs on this machine now: the requests made once warm. */
  async function baseline(load: SteadyLoad, timeline: Timeline): Promise<LoadSample[]> {
    await warmUp(load, () => timeline.circuit.at(-1)?.open === true, 'hits before, with the circuit closed');
    return [...load.samples];
  }

  it('createRedisClient: no request fails, the open circuit costs no Redis timeout, hits resume after the restart', async () => {
    const redisClient = createRedisClient({ url: redis.current.url });
    const readyAtMs: number[] = [];
    redisClient.on('ready', () => readyAtMs.push(performance.now()));
    const { app, timeline } = await startApp(redisClient);
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 15 });
    const beforeStop = await baseline(load, timeline);

    const { stoppingAtMs, restartedAtMs } = await withRedisOutage(
      redis.current,
      downWithCircuitOpen(timeline),
    );
    const recovered = await hitSince(load, restartedAtMs);
    await sleep(200);
    const samples = await load.stop();

    expect(failed(samples), 'failed or wrong answers').to.deep.equal([]);
    const openedAtMs = openedSince(timeline, stoppingAtMs);
    const closedAtMs = timeline.circuit.find((c) => !c.open && c.atMs > openedAtMs)?.atMs ?? Number.NaN;
    // The circuit opened soon after Redis stopped: after the few failed calls that open it, none of
    // which waited for a timeout (the client fails at once while disconnected).
    const failedBeforeOpen = timeline.storeCalls.filter(
      (call) => call.failed && call.endMs >= stoppingAtMs && call.endMs <= openedAtMs,
    );
    expect(failedBeforeOpen.length, 'failed calls before the circuit opened').to.be.at.most(
      BREAKER_THRESHOLD,
    );
    expect(
      timeline.timeoutsAtMs.filter((atMs) => atMs >= stoppingAtMs && atMs < restartedAtMs),
      'calls that waited for a Redis timeout while Redis was down',
    ).to.deep.equal([]);
    const whileOpen = samples.filter((s) => s.sentAtMs > openedAtMs && s.sentAtMs < restartedAtMs);
    expect(whileOpen.length, 'requests while the circuit was open').to.be.above(20);
    expect(new Set(whileOpen.map((s) => s.xCache)), 'answered by the handler').to.deep.equal(
      new Set(['MISS']),
    );
    const callsWhileOpen = callsStartedBetween(timeline, openedAtMs, restartedAtMs);
    const probes = Math.ceil((restartedAtMs - openedAtMs) / HALF_OPEN_AFTER_MS);
    expect(callsWhileOpen.length, 'only the half-open probes reach Redis').to.be.at.most(probes);
    const medianBeforeMs = median(latencies(beforeStop));
    expect(
      median(latencies(whileOpen)),
      `median while open (before the stop: ${medianBeforeMs.toFixed(1)} ms)`,
    ).to.be.below(3 * medianBeforeMs + LOAD_DELAY_MS + 20);
    expect(recovered, 'a hit after the restart').to.equal(true);
    // Hits resume as soon as they can: the client reconnected by itself (its backoff is capped at
    // 2 s), and the first probe after that closed the circuit.
    const reconnectedAtMs = readyAtMs.find((atMs) => atMs > stoppingAtMs) ?? Number.NaN;
    expect(reconnectedAtMs, 'the client reconnected before the circuit closed').to.be.at.most(closedAtMs);
    expect(
      timeline.storeCalls.filter((call) => call.failed && call.startMs > reconnectedAtMs),
      'failed probes once reconnected',
    ).to.deep.equal([]);
    expect(closedAtMs, 'the circuit closed again').to.be.above(restartedAtMs);
    expect(client?.isReady, 'the same client reconnected by itself').to.equal(true);
  });

  it('a plain createClient() (commands queue while offline): no request fails, and none waits once the circuit is open', async () => {
    const { app, timeline } = await startApp(createClient({ url: redis.current.url }));
    const load = startSteadyLoad({ baseUrl: app.baseUrl, paths: PATHS, intervalMs: 15 });
    const beforeStop = await baseline(load, timeline);

    const { stoppingAtMs, stoppedAtMs, restartedAtMs } = await withRedisOutage(
      redis.current,
      downWithCircuitOpen(timeline),
    );
    const recovered = await hitSince(load, restartedAtMs);
    const samples = await load.stop();

    expect(failed(samples), 'failed or wrong answers').to.deep.equal([]);
    const openedAtMs = openedSince(timeline, stoppingAtMs);
    const slowestBeforeMs = largest(latencies(beforeStop));
    const beforeOpen = samples.filter((s) => s.sentAtMs > stoppedAtMs && s.sentAtMs < openedAtMs);
    const whileOpen = samples.filter((s) => s.sentAtMs > openedAtMs && s.sentAtMs < restartedAtMs);
    // Until the circuit opens, a request gives up on Redis twice at most: its read, then its write
    // (on top of what a request costs on this machine now: the slowest before the stop, thrice, as
    // each wait may end late too).
    expect(
      largest(latencies(beforeOpen)),
      `slowest before the circuit opened (slowest before the stop: ${slowestBeforeMs.toFixed(0)} ms)`,
    ).to.be.below(2 * REDIS_TIMEOUT_MS + LOAD_DELAY_MS + 3 * slowestBeforeMs + 100);
    // While it is open, Redis sees one probe per half-open interval. The only requests that wait
    // are those sharing a load (same key) with a call begun before the circuit opened or with a
    // probe: one timeout at most. Requests for other keys do not wait for the probe.
    const probes = callsStartedBetween(timeline, openedAtMs, restartedAtMs);
    expect(probes.length).to.be.at.most(Math.ceil((restartedAtMs - openedAtMs) / HALF_OPEN_AFTER_MS));
    expect(probes.length, 'a half-open probe ran while Redis was down').to.be.at.least(1);
    const sharesProbe = (s: LoadSample) =>
      probes.some(
        (probe) =>
          probe.key === cache?.entryKey(responseCacheKey(`${app?.baseUrl}${s.path}`)) &&
          probe.startMs - 50 < s.sentAtMs + s.latencyMs &&
          s.sentAtMs < probe.endMs,
      );
    const duringAProbe = (s: LoadSample) =>
      probes.some((probe) => s.sentAtMs >= probe.startMs && s.sentAtMs < probe.endMs);
    expect(whileOpen.length, 'requests while the circuit was open').to.be.above(20);
    // Were requests held behind a probe, those sent while it ran would take the rest of its
    // timeout; those sent while none ran are the baseline, at the same moment on the same machine.
    const settled = whileOpen.filter((s) => s.sentAtMs > openedAtMs + REDIS_TIMEOUT_MS);
    const sentDuringProbes = settled.filter((s) => duringAProbe(s) && !sharesProbe(s));
    const sentBetweenProbes = settled.filter(
      (s) => !probes.some((probe) => s.sentAtMs >= probe.startMs - 50 && s.sentAtMs < probe.endMs + 50),
    );
    expect(sentDuringProbes.length, 'requests for other keys sent while a probe ran').to.be.at.least(3);
    const medianBetweenMs = median(latencies(sentBetweenProbes));
    expect(
      median(latencies(sentDuringProbes)),
      `median of requests sent during a probe (between probes: ${medianBetweenMs.toFixed(1)} ms)`,
    ).to.be.below(3 * medianBetweenMs + 20);
    expect(
      largest(latencies(whileOpen)),
      `slowest while open: one timeout at most (slowest before the stop: ${slowestBeforeMs.toFixed(0)} ms)`,
    ).to.be.below(REDIS_TIMEOUT_MS + LOAD_DELAY_MS + 3 * slowestBeforeMs + 100);
    expect(recovered, 'hits resume after the restart').to.equal(true);
  });
});

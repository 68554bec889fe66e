import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express, { type RequestHandler } from 'express';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { type Cache, createCache, MemoryStore, metricsHandler, responseCache } from '../../../src/index.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { startPrometheus, type TestPrometheus } from '../../support/prometheus-server.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import { sampleValue } from '../../unit/observability/read-metric.js';

/** How far `histogram_quantile` may land from the quantile measured directly (issue 13). */
const TOLERANCE = 0.15;
const QUANTILES = [0.5, 0.95] as const;
const LOADS = 80;
const LOADS_AT_ONCE = 8;
const HITS = 150;
/** Lookups of warm keys through the engine: a Redis GET each, enough for a smooth tail. */
const REDIS_READS = 600;

/** Durations in seconds, as the spec measured them itself. */
const measured = { loads: [] as number[], redisGets: [] as number[], hits: [] as number[] };

/** A data source that answers in 100–120 ms, as in the issue. */
function dataSourceDelayMs(): number {
  return 100 + Math.random() * 20;
}

/**
 * A real Redis about a millisecond away, as over a network (a loopback call takes a tenth of that,
 * which the cache's own few microseconds around each call would blur), that times every GET: the
 * calls the cache's Redis histogram observes.
 */
class DistantRedisStore extends RedisStore {
  override async get(key: string): Promise<Buffer | undefined> {
    const startedAt = performance.now();
    try {
      await sleep(1);
      return await super.get(key);
    } finally {
      measured.redisGets.push((performance.now() - startedAt) / 1000);
    }
  }
}

/** A remote store some 4–6 ms away, so that a hit takes about 5 ms. */
class DistantStore extends MemoryStore {
  override async get(key: string): Promise<Buffer | undefined> {
    await sleep(4 + Math.random() * 2);
    return super.get(key);
  }
}

/** Times each response from before the cache middleware to its end, into `into` when `accept` says so. */
function timeResponses(into: number[], accept: (res: express.Response) => boolean): RequestHandler {
  return (_req, res, next) => {
    const startedAt = performance.now();
    res.once('finish', () => {
      if (accept(res)) into.push((performance.now() - startedAt) / 1000);
    });
    next();
  };
}

/** The `q` quantile of `values` by rank, as `histogram_quantile` ranks observations (q × count). */
function quantileOf(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(2)} ms`;
}

describe('Histogram buckets against a real Prometheus: quantiles close to the measured ones', function () {
  this.timeout(180_000);
  const registry = new Registry();
  let redis: TestRedis;
  let redisClient: ReturnType<typeof createClient>;
  let server: Server | undefined;
  let prometheus: TestPrometheus | undefined;
  let pages: Cache;
  let lookups: Cache;
  let remote: Cache;

  function createApp(): express.Express {
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    app.get('/reports/:id', responseCache(pages), async (req, res) => {
      const startedAt = performance.now();
      res.once('finish', () => measured.loads.push((performance.now() - startedAt) / 1000));
      await sleep(dataSourceDelayMs());
      res.json({ report: req.params.id });
    });
    app.get(
      '/profile',
      timeResponses(measured.hits, (res) => res.getHeader('x-cache') === 'HIT'),
      responseCache(remote),
      (_req, res) => res.json({ name: 'Ada' }),
    );
    return app;
  }

  async function get(baseUrl: string, path: string): Promise<void> {
    const response = await fetch(baseUrl + path);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  }

  async function scraped(expr: string): Promise<number> {
    return Number((await prometheus?.query(expr))?.[0]?.value[1]);
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    redisClient = createClient({ url: redis.url });
    await redisClient.connect();
    const patient = { registry, logger: silentLogger, redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS };
    pages = createCache({ ...patient, redis: redisClient, prefix: 'pages:' });
    lookups = createCache({
      ...patient,
      store: new DistantRedisStore(redisClient, { namespace: 'lookups:__ca:' }),
      prefix: 'lookups:',
    });
    remote = createCache({ ...patient, store: new DistantStore(), prefix: 'remote:' });
    const listening = createApp().listen(0, '127.0.0.1');
    server = listening;
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    const target = `127.0.0.1:${(listening.address() as AddressInfo).port}`;
    const baseUrl = `http://${target}`;
    prometheus = await startPrometheus({ targets: [target], scrapeIntervalSeconds: 1 });

    // Misses, whose handler runs, several at once as under real traffic.
    for (let first = 0; first < LOADS; first += LOADS_AT_ONCE) {
      const ids = Array.from({ length: LOADS_AT_ONCE }, (_, index) => first + index);
      await Promise.all(ids.map((id) => get(baseUrl, `/reports/${id}`)));
    }
    for (let key = 0; key < 10; key++) await lookups.set(`warm-${key}`, 'value');
    for (let read = 0; read < REDIS_READS; read++) await lookups.get(`warm-${read % 10}`, () => 'value');
    await get(baseUrl, '/profile');
    for (let hit = 0; hit < HITS; hit++) await get(baseUrl, '/profile');

    // Deadlines bound a hang, not speed: a busy machine may take many seconds to scrape.
    const counts = [
      ['cache_aside_load_duration_seconds_count', { cache: 'pages' }],
      ['cache_aside_redis_duration_seconds_count', { cache: 'lookups', operation: 'get' }],
      ['cache_aside_request_duration_seconds_count', { cache: 'remote', result: 'hit' }],
    ] as const;
    for (const [name, labels] of counts) {
      const expected = await sampleValue(registry, name, labels);
      const selector = Object.entries(labels)
        .map(([label, value]) => `${label}="${value}"`)
        .join(', ');
      await eventually(async () => (await scraped(`sum(${name}{${selector}})`)) === expected, {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: `Prometheus to scrape all ${expected} of ${name}{${selector}}`,
      });
    }
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await pages?.close();
    await lookups?.close();
    await remote?.close();
    await redisClient?.quit();
    await redis?.stop();
  });

  /** Compares `histogram_quantile` over the buckets `selector` picks with the quantiles of `truth`. */
  async function expectQuantilesNear(bucketSelector: string, countSelector: string, truth: number[]) {
    expect(await scraped(`sum(${countSelector})`), 'observations in the histogram').to.equal(truth.length);
    const report: string[] = [];
    let worst = 0;
    for (const q of QUANTILES) {
      const estimated = await scraped(`histogram_quantile(${q}, sum by (le) (${bucketSelector}))`);
      const actual = quantileOf(truth, q);
      const error = Math.abs(estimated - actual) / actual;
      worst = Math.max(worst, error);
      report.push(`p${q * 100}: Prometheus ${ms(estimated)}, measured ${ms(actual)}`);
    }
    expect(worst, report.join('; ')).to.be.at.most(TOLERANCE);
  }

  it('reads the p50 and p95 of a 100–120 ms loader from load_duration_seconds within 15 %', async () => {
    await expectQuantilesNear(
      'cache_aside_load_duration_seconds_bucket{cache="pages"}',
      'cache_aside_load_duration_seconds_count{cache="pages"}',
      measured.loads,
    );
  });

  it('reads the p50 and p95 of ~1 ms Redis GETs from redis_duration_seconds within 15 %', async () => {
    await expectQuantilesNear(
      'cache_aside_redis_duration_seconds_bucket{cache="lookups", operation="get"}',
      'cache_aside_redis_duration_seconds_count{cache="lookups", operation="get"}',
      measured.redisGets,
    );
  });

  it('reads the p50 and p95 of ~5 ms hits from request_duration_seconds within 15 %', async () => {
    await expectQuantilesNear(
      'cache_aside_request_duration_seconds_bucket{cache="remote", result="hit"}',
      'cache_aside_request_duration_seconds_count{cache="remote", result="hit"}',
      measured.hits,
    );
  });
});

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { createClient } from 'redis';
import { type Cache, cacheAdmin, createCache, metricsHandler, responseCache } from '../../../src/index.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { eventually } from '../../support/eventually.js';
import { startPrometheus, type TestPrometheus } from '../../support/prometheus-server.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import {
  dashboardTargets,
  labelValuesQueries,
  readDashboard,
  substituteVariables,
} from '../../unit/observability/read-dashboard.js';

// Long enough to cover all the traffic below (it starts after the first scrape), however long a busy
// machine takes between that scrape and the last query: this Prometheus holds nothing older anyway.
const RATE_WINDOW = '10m';
const TRAFFIC_MS = 4_000;
const ROUND_PAUSE_MS = 200;
const ROUTES = ['/api/items/:id', '/api/news', '/api/reports/:id', '/api/broken/:id'];
/** A route whose cache is in shadow mode: its requests are all `shadow`, never in a hit ratio. */
const SHADOW_ROUTE = '/api/trial/:id';

/** Grafana's variables as the dashboard's "All" selection expands them. */
function substitute(expr: string): string {
  return substituteVariables(expr, { rateInterval: RATE_WINDOW, range: RATE_WINDOW });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('Grafana dashboard against a real Prometheus', function () {
  this.timeout(180_000);
  const registry = new Registry();
  let redis: TestRedis;
  let redisClient: ReturnType<typeof createClient>;
  let server: Server | undefined;
  let prometheus: TestPrometheus | undefined;
  let pages: Cache;
  let broken: Cache;
  let trial: Cache;
  /** Its deletes fail: the first invalidation waits in its queue (of one), the second is dropped. */
  let queued: Cache;
  /** What `/api/trial/:id` answers: it changes every other round, so some would-be hits differ. */
  let trialVersion = 0;
  let baseUrl: string;

  function createApp(): express.Express {
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    app.use('/_cache', cacheAdmin(pages, { authorize: () => true }));
    app.get('/api/items/:id', responseCache(pages, { ttl: 60, tags: ['items'] }), (req, res) => {
      res.json({ id: req.params.id });
    });
    // Fresh for 100 ms, then served stale (and revalidated) for a minute.
    app.get('/api/news', responseCache(pages, { ttl: 0.1, staleTtl: 60 }), (_req, res) => {
      res.json({ headline: 'cache earns its keep' });
    });
    // Slow enough that concurrent requests for a cold key share one handler run.
    app.get('/api/reports/:id', responseCache(pages), async (req, res) => {
      await sleep(50);
      res.json({ report: req.params.id });
    });
    app.get('/api/broken/:id', responseCache(broken), (req, res) => {
      res.json({ id: req.params.id });
    });
    app.get(SHADOW_ROUTE, responseCache(trial), (req, res) => {
      res.json({ id: req.params.id, version: trialVersion });
    });
    return app;
  }

  async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<void> {
    const response = await fetch(baseUrl + path, { headers, method });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}`);
  }

  async function trafficRound(round: number): Promise<void> {
    if (round === 0) {
      expect(await queued.invalidate('waits', { queueOnFailure: true })).to.equal('queued');
      const dropped = await queued.invalidate('dropped', { queueOnFailure: true }).catch((error) => error);
      expect(dropped).to.have.property('code', 'E_INVALIDATION_FAILED');
    } else {
      // The previous round's entry, stored by now and never read again: one entry purged.
      await get(`/_cache/entry?url=${encodeURIComponent(`/api/items/new-${round - 1}`)}`, {}, 'DELETE');
    }
    await pages.invalidate('absent-key');
    await pages.invalidateTags(['reports']);
    await pages.invalidatePattern('absent:*');
    await get('/api/items/1');
    await get('/api/items/2');
    await get(`/api/items/new-${round}`);
    await get('/api/items/1', { authorization: 'Bearer spec' });
    await get('/api/news');
    await Promise.all([1, 2, 3].map(() => get(`/api/reports/${round}`)));
    await get(`/api/broken/${round % 2}`);
    trialVersion = Math.floor(round / 2);
    await get('/api/trial/1');
  }

  async function appRequestCount(): Promise<number> {
    const family = registry.getSingleMetric('cache_aside_request_duration_seconds') as Histogram | undefined;
    const { values } = (await family?.get()) ?? { values: [] };
    return values
      .filter((sample) => sample.metricName === 'cache_aside_request_duration_seconds_count')
      .reduce((sum, sample) => sum + sample.value, 0);
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    redisClient = createClient({ url: redis.url });
    await redisClient.connect();
    // A generous timeout: a slow CI machine must not turn the healthy cache's calls into errors.
    pages = createCache({
      redis: redisClient,
      prefix: 'pages:',
      registry,
      logger: silentLogger,
      redisTimeoutMs: 2_000,
    });
    broken = createCache({
      store: new ChaosStore().alwaysThrow(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      prefix: 'broken:',
      registry,
      logger: silentLogger,
      circuitBreakerThreshold: 3,
      circuitBreakerHalfOpenAfterMs: 500,
    });
    trial = createCache({
      redis: redisClient,
      prefix: 'trial:',
      registry,
      logger: silentLogger,
      redisTimeoutMs: 2_000,
    });
    await trial.setMode('shadow');
    queued = createCache({
      store: new ChaosStore().alwaysThrow(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
        only: ['delete'],
      }),
      prefix: 'queued:',
      registry,
      logger: silentLogger,
      invalidationAttempts: 1,
      // Closed throughout: its circuit is not what this cache is here for.
      circuitBreakerThreshold: 0,
      // Nothing replayed, nothing aged out while the spec runs.
      invalidationQueue: { maxSize: 1, replayIntervalMs: 600_000, maxAgeMs: 600_000 },
    });
    // The dashboard's Process row reads these, as in the demo.
    collectDefaultMetrics({ register: registry });
    const listening = createApp().listen(0, '127.0.0.1');
    server = listening;
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    const target = `127.0.0.1:${(listening.address() as AddressInfo).port}`;
    baseUrl = `http://${target}`;

    prometheus = await startPrometheus({ targets: [target], jobName: 'app', scrapeIntervalSeconds: 1 });
    const running = prometheus;
    // The zero-initialised series must be scraped before the traffic, so that rates see it.
    // Deadlines bound a hang, not speed: a busy machine may take many seconds.
    await eventually(async () => (await running.query('up{job="app"} == 1')).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'the first scrape',
    });

    const trafficEndsAt = Date.now() + TRAFFIC_MS;
    for (let round = 0; Date.now() < trafficEndsAt && round < 100; round++) {
      await trafficRound(round);
      await sleep(ROUND_PAUSE_MS);
    }
    const expected = await appRequestCount();
    await eventually(
      async () =>
        Number(
          (await running.query('sum(cache_aside_request_duration_seconds_count{job="app"})'))[0]?.value[1],
        ) === expected,
      { timeoutMs: 60_000, intervalMs: 200, message: `Prometheus to scrape all ${expected} requests` },
    );
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await pages?.close();
    await broken?.close();
    await trial?.close();
    await queued?.close();
    await redisClient?.quit();
    await redis?.stop();
  });

  it('has the traffic produce every request result, on route patterns rather than URLs', async () => {
    const byResult = await prometheus?.query(
      `sum by (result) (increase(cache_aside_request_duration_seconds_count[${RATE_WINDOW}])) > 0`,
    );
    expect(byResult?.map((sample) => sample.metric.result).sort()).to.deep.equal([
      'bypass',
      'hit',
      'miss',
      'shadow',
      'stale',
    ]);
    const routes = await prometheus?.labelValues('route', 'cache_aside_request_duration_seconds_count');
    expect(routes?.sort()).to.deep.equal([...ROUTES, SHADOW_ROUTE].sort());
  });

  it('scrapes every family that the code registers', async () => {
    const scraped = await prometheus?.query('group by (__name__) ({__name__=~"cache_aside_.+", job="app"})');
    const names = new Set(scraped?.map((sample) => sample.metric.__name__));
    for (const metric of registry.getMetricsAsArray().filter(({ name }) => name.startsWith('cache_aside_'))) {
      // By class: prom-client 14's metric objects have no `type` property (15's have).
      const sample = metric instanceof Histogram ? `${metric.name}_bucket` : metric.name;
      expect(names.has(sample), `${sample} in Prometheus`).to.equal(true);
    }
  });

  it('answers every dashboard query with data', async () => {
    const empty: string[] = [];
    for (const target of dashboardTargets(readDashboard())) {
      const expr = substitute(target.expr);
      const samples = (await prometheus?.query(expr)) ?? [];
      const finite = samples.filter((sample) => Number.isFinite(Number(sample.value[1])));
      if (finite.length === 0)
        empty.push(`${target.panel} [${target.refId}]: ${expr} → ${JSON.stringify(samples)}`);
    }
    expect(empty, empty.join('\n')).to.deep.equal([]);
  });

  /** The dashboard panel's query `refId` evaluated now, by the values of `labels` (joined by a space). */
  async function panelValues(title: string, labels: string, refId = 'A'): Promise<Record<string, number>> {
    const target = dashboardTargets(readDashboard()).find(
      (candidate) => candidate.panel === title && candidate.refId === refId,
    );
    if (target === undefined) throw new Error(`no query ${refId} in panel ${title}`);
    const samples = (await prometheus?.query(substitute(target.expr))) ?? [];
    const keyOf = (metric: Record<string, string>) =>
      labels
        .split(' ')
        .map((label) => metric[label] ?? '')
        .join(' ');
    return Object.fromEntries(samples.map((sample) => [keyOf(sample.metric), Number(sample.value[1])]));
  }

  it('shows routes that never hit at 0 % served from cache rather than leaving them out', async () => {
    const byRoute = await panelValues('Served from cache by route', 'route');
    expect(Object.keys(byRoute).sort()).to.deep.equal([...ROUTES].sort());
    expect(byRoute['/api/broken/:id']).to.equal(0);
    expect(byRoute['/api/items/:id']).to.be.greaterThan(0);
  });

  it('counts stale answers as served from the cache, above the fresh hit ratio', async () => {
    const served = (await panelValues('Served from cache', 'result'))[''] as number;
    const fresh = (await panelValues('Fresh hit ratio', 'result'))[''] as number;
    const stale = await prometheus?.query(
      `sum(increase(cache_aside_request_duration_seconds_count{result="stale"}[${RATE_WINDOW}])) / sum(increase(cache_aside_request_duration_seconds_count{result=~"hit|stale|miss"}[${RATE_WINDOW}]))`,
    );
    expect(fresh).to.be.greaterThan(0);
    // Queried a moment apart: the rates' extrapolation moves a little in between.
    expect(served - fresh).to.be.closeTo(Number(stale?.[0]?.value[1]), 0.01);
    expect(served - fresh).to.be.greaterThan(0.02);
    expect((await panelValues('Handler time saved', 'cache'))['']).to.be.greaterThan(0);
  });

  it('lists every route in the routes table, with its request rate, served-from-cache share and 5xx share', async () => {
    const rates = await panelValues('Routes', 'route', 'A');
    const served = await panelValues('Routes', 'route', 'B');
    const serverErrors = await panelValues('Routes', 'route', 'D');
    // The shadow route's requests count, but none was cacheable (the handler answered each): it has
    // no served-from-cache share, where a route that never hits shows 0 %.
    const everyRoute = [...ROUTES, SHADOW_ROUTE].sort();
    expect(Object.keys(rates).sort()).to.deep.equal(everyRoute);
    expect(Object.keys(serverErrors).sort()).to.deep.equal(everyRoute);
    expect(Object.keys(served).sort()).to.deep.equal([...ROUTES].sort());
    expect(served['/api/broken/:id']).to.equal(0);
    expect(served['/api/items/:id']).to.be.greaterThan(0);
    expect(Object.values(serverErrors)).to.deep.equal(everyRoute.map(() => 0));
  });

  it('shows only the error series above zero: the broken cache’s, and the failed deletes of the queued one', async () => {
    const errors = await panelValues('Error ratio by operation', 'cache');
    expect(Object.keys(errors).sort()).to.deep.equal(['broken', 'queued']);
    const all = await prometheus?.query('cache_aside_errors_total{job="app"}');
    expect(all?.length).to.be.greaterThan(Object.keys(errors).length);
  });

  it('fills every dashboard variable', async () => {
    for (const { variable, selector, label } of labelValuesQueries(readDashboard())) {
      const values = await prometheus?.labelValues(label, substitute(selector));
      expect(values, `$${variable}`).to.not.be.empty;
    }
  });

  it('shows the broken cache’s circuit open and its Redis errors, and the healthy cache closed', async () => {
    const circuit = await prometheus?.query(
      `max by (cache) (max_over_time(cache_aside_circuit_open[${RATE_WINDOW}]))`,
    );
    const state = Object.fromEntries(circuit?.map((sample) => [sample.metric.cache, sample.value[1]]) ?? []);
    expect(state).to.deep.equal({ pages: '0', broken: '1', trial: '0', queued: '0' });
    const errors = await prometheus?.query(
      `sum by (cache) (increase(cache_aside_errors_total[${RATE_WINDOW}])) > 0`,
    );
    expect(errors?.map((sample) => sample.metric.cache).sort()).to.deep.equal(['broken', 'queued']);
  });

  it('counts shadow requests by would-be answer and match, and measures the staleness they would have served', async () => {
    // Round 0 is a would-be miss, round 1 a would-be hit of the same body; from round 2 on the body
    // changed, and the would-be hits, storing nothing, keep comparing with the round-0 response.
    const counted = await prometheus?.query(
      'sum by (route, would, match) (cache_aside_shadow_total{job="app"}) > 0',
    );
    const kinds = counted?.map(({ metric }) => `${metric.route} ${metric.would}/${metric.match}`).sort();
    expect(kinds).to.deep.equal([
      `${SHADOW_ROUTE} hit/different`,
      `${SHADOW_ROUTE} hit/same`,
      `${SHADOW_ROUTE} miss/none`,
    ]);
    // The query the README gives for the share of would-be answers that differed from the fresh one.
    const staleness = await prometheus?.query(
      `sum by (route) (rate(cache_aside_shadow_total{would=~"hit|stale", match="different"}[${RATE_WINDOW}]))` +
        ` / sum by (route) (rate(cache_aside_shadow_total{would=~"hit|stale", match=~"same|different"}[${RATE_WINDOW}]))`,
    );
    expect(staleness?.map(({ metric }) => metric.route)).to.deep.equal([SHADOW_ROUTE]);
    expect(Number(staleness?.[0]?.value[1])).to.be.greaterThan(0).and.at.most(1);
  });

  it('shows the share of would-be answers that differed, and the would-be hit ratio, of the shadow route', async () => {
    const differed = await panelValues('Shadow: would-be answers that differed', 'route', 'A');
    const hits = await panelValues('Shadow: would-be answers that differed', 'route', 'B');
    expect(Object.keys(differed)).to.deep.equal([SHADOW_ROUTE]);
    expect(differed[SHADOW_ROUTE]).to.be.greaterThan(0).and.at.most(1);
    // Every round but the first would have been a hit (that miss's series is born at 1, so no rate sees it).
    expect(Object.keys(hits)).to.deep.equal([SHADOW_ROUTE]);
    expect(hits[SHADOW_ROUTE]).to.be.greaterThan(0.5).and.at.most(1);
  });

  it('shows the admin router’s purges and the entries they deleted, by kind', async () => {
    const purges = await panelValues('Purges by kind', 'kind', 'A');
    const entries = await panelValues('Purges by kind', 'kind', 'B');
    expect(Object.keys(purges).sort()).to.deep.equal(['entry', 'pattern', 'tag']);
    expect(purges).to.deep.include({ pattern: 0, tag: 0 });
    expect(purges.entry).to.be.greaterThan(0);
    expect(entries.entry).to.be.greaterThan(0);
  });

  it('shows the invalidation waiting in a queue, and the one dropped when the queue was full', async () => {
    const waiting = await panelValues('Invalidation queue', 'cache', 'A');
    expect(waiting).to.deep.equal({ pages: 0, broken: 0, trial: 0, queued: 1 });
    const dropped = await panelValues('Invalidation queue', 'cache reason', 'B');
    expect(
      Object.entries(dropped)
        .filter(([, rate]) => rate > 0)
        .map(([key]) => key),
    ).to.deep.equal(['queued overflow']);
  });

  it('shows the process’s event loop lag and memory, from collectDefaultMetrics()', async () => {
    for (const [title, refId] of [
      ['Event loop lag', 'A'],
      ['Event loop lag', 'B'],
      ['Process memory', 'A'],
      ['Process memory', 'B'],
    ] as const) {
      const values = Object.values(await panelValues(title, 'instance', refId));
      expect(values, `${title} [${refId}]`).to.have.length(1);
      expect(values[0], `${title} [${refId}]`).to.be.greaterThan(0);
    }
  });
});

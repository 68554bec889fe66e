import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { type Cache, createCache, metricsHandler, responseCache } from '../../../src/index.js';
import { connectRedis, type RedisConnection } from '../../../src/redis-connection.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import {
  type PrometheusAlert,
  startPrometheus,
  type TestPrometheus,
} from '../../support/prometheus-server.js';
import { withRedisOutage } from '../../support/redis-outage.js';
import { type RedisProcess, spawnRedis } from '../../support/redis-server.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { silentLogger } from '../../support/silent-logger.js';
import { RULES_PATH, type Rule } from '../../unit/observability/read-rules.js';

// The shipped rules wait 1 to 10 minutes (`for:`) before an alert fires; a spec cannot. Prometheus
// here loads a copy of grafana/rules/express-cache-aside-rules.yml that differs in one respect:
// every `for:` is 1 s. Expressions, windows and thresholds are the shipped ones, and Prometheus
// evaluates them every second on what it scrapes from the app below while each fault is injected.
const SPEC_FOR = '1s';
const ALERT_WAIT = { timeoutMs: 45_000, intervalMs: 250 } as const;
const ITEMS = ['1', '2', '3'];

/** The shipped rules file, with every `for:` shortened to {@link SPEC_FOR}, as JSON (which is YAML). */
async function rulesForTheSpec(directory: string): Promise<string> {
  const rules = parse(await readFile(RULES_PATH, 'utf8')) as { groups: { rules: Rule[] }[] };
  for (const rule of rules.groups.flatMap((group) => group.rules))
    if (rule.for !== undefined) rule.for = SPEC_FOR;
  const path = join(directory, 'rules.yml');
  await writeFile(path, JSON.stringify(rules));
  return path;
}

describe('Prometheus alerting rules against a real Prometheus, with faults injected', function () {
  this.timeout(90_000);
  const registry = new Registry();
  const dataSource = { failing: false };
  let directory: string;
  let redis: RedisProcess;
  let client: RedisConnection;
  let cache: Cache;
  let server: Server | undefined;
  let prometheus: TestPrometheus | undefined;
  let trafficRunning = false;
  let traffic: Promise<void> = Promise.resolve();

  function createApp(): express.Express {
    const app = express();
    // Express's error handler stays quiet about the failures this spec causes on purpose.
    app.set('env', 'test');
    app.get('/metrics', metricsHandler(registry));
    // Fresh for a second, then served stale (and refreshed) for a minute.
    app.get('/api/items/:id', responseCache(cache, { ttl: 1, staleTtl: 60, tags: ['items'] }), (req, res) => {
      if (dataSource.failing) throw new Error('data source unavailable');
      res.json({ id: req.params.id });
    });
    return app;
  }

  /** Reads the items in a loop until the spec ends; failed requests are part of some faults. */
  async function readItems(baseUrl: string): Promise<void> {
    for (let round = 0; trafficRunning; round++) {
      await fetch(`${baseUrl}/api/items/${ITEMS[round % ITEMS.length]}`).then(
        (response) => response.arrayBuffer(),
        () => undefined,
      );
      await sleep(20);
    }
  }

  /** Our alerts that Prometheus has pending or firing now. */
  async function cacheAlerts(): Promise<PrometheusAlert[]> {
    const alerts = (await prometheus?.alerts()) ?? [];
    return alerts.filter((alert) => alert.labels.alertname?.startsWith('CacheAside'));
  }

  async function firing(alertname: string): Promise<PrometheusAlert> {
    let found: PrometheusAlert | undefined;
    await eventually(
      async () => {
        found = (await cacheAlerts()).find(
          (alert) => alert.labels.alertname === alertname && alert.state === 'firing',
        );
        return found !== undefined;
      },
      { ...ALERT_WAIT, message: `${alertname} firing` },
    );
    return found as PrometheusAlert;
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    directory = await mkdtemp(join(tmpdir(), 'prometheus-alerts-spec-'));
    redis = await spawnRedis();
    client = await connectRedis({ url: redis.url });
    cache = createCache({
      redis: client,
      prefix: 'pages:',
      name: 'pages',
      registry,
      logger: silentLogger,
      // Generous, so that only the injected faults fail calls on a busy machine.
      redisTimeoutMs: 2_000,
      invalidationAttempts: 1,
    });
    const listening = createApp().listen(0, '127.0.0.1');
    server = listening;
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    const target = `127.0.0.1:${(listening.address() as AddressInfo).port}`;
    prometheus = await startPrometheus({
      targets: [target],
      scrapeIntervalSeconds: 1,
      ruleFiles: [await rulesForTheSpec(directory)],
    });
    const running = prometheus;
    // The zero-initialised series must be scraped before any fault, so that increases see them rise.
    await eventually(async () => (await running.query('up{job="app"} == 1')).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'the first scrape',
    });
    trafficRunning = true;
    traffic = readItems(`http://${target}`);
  });

  after(async () => {
    trafficRunning = false;
    await traffic;
    await prometheus?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await cache?.close();
    client?.destroy();
    await redis?.dispose();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  // The tests run in order: the first one needs a cache that no fault has touched yet.
  it('records the ratios and raises no alert while the cache is healthy', async () => {
    const running = prometheus as TestPrometheus;
    await eventually(
      async () =>
        (
          await running.query(
            'job_cache:cache_aside_served_from_cache:ratio_rate5m{job="app", cache="pages"} > 0',
          )
        ).length === 1,
      { ...ALERT_WAIT, message: 'the served-from-cache ratio recorded' },
    );
    // A few more evaluations of every rule on healthy traffic.
    await sleep(3_000);
    expect(await cacheAlerts()).to.deep.equal([]);
  });

  it('fires CacheAsideStaleOnErrorSustained while the data source fails and stale entries answer', async () => {
    dataSource.failing = true;
    try {
      const alert = await firing('CacheAsideStaleOnErrorSustained');
      expect(alert.labels).to.include({ job: 'app', cache: 'pages', severity: 'warning' });
      expect(alert.annotations.summary).to.equal(
        'Cache pages is covering for a failing data source with stale entries',
      );
    } finally {
      dataSource.failing = false;
    }
    expect((await cacheAlerts()).map((alert) => alert.labels.alertname)).to.not.include(
      'CacheAsideCircuitOpen',
    );
  });

  it('fires CacheAsideInvalidationFailed when Redis refuses an invalidation', async () => {
    // An ACL that forbids UNLINK, the command every invalidation ends with: reads and writes go on.
    await client.sendCommand(['ACL', 'SETUSER', 'default', '-unlink']);
    try {
      const error = await rejectionOf(cache.invalidate('item:1'));
      expect(error).to.have.property('code', 'E_INVALIDATION_FAILED');
      const alert = await firing('CacheAsideInvalidationFailed');
      expect(alert.labels).to.include({ job: 'app', cache: 'pages', kind: 'key', severity: 'critical' });
    } finally {
      await client.sendCommand(['ACL', 'SETUSER', 'default', '+unlink']);
    }
    await cache.invalidate('item:1');
  });

  it('fires CacheAsideCircuitOpen while Redis is stopped, after the circuit opened', async () => {
    let opened = false;
    cache.events.on('circuit', ({ open }) => {
      if (open) opened = true;
    });
    await withRedisOutage(redis, {
      noticed: () => opened,
      noticedWithin: { timeoutMs: 30_000, intervalMs: 20, message: 'the circuit opens' },
      whileDown: async () => {
        const alert = await firing('CacheAsideCircuitOpen');
        expect(alert.labels).to.include({ job: 'app', cache: 'pages', severity: 'warning' });
        expect(alert.labels.instance).to.match(/^127\.0\.0\.1:\d+$/);
      },
    });
  });
});

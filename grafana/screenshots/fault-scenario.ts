import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics } from 'prom-client';
import { createClient } from 'redis';
import { eventually } from '../../spec/support/eventually.js';
import { startPrometheus, type TestPrometheus } from '../../spec/support/prometheus-server.js';
import { type RedisProcess, spawnRedis } from '../../spec/support/redis-server.js';
import { silentLogger } from '../../spec/support/silent-logger.js';
import { createCache } from '../../src/create-cache.js';
import { createDemoApp } from '../../src/demo/demo-app.js';
import { MockDataStore } from '../../src/demo/mock-data-store.js';
import { connectRedis } from '../../src/redis-connection.js';

/** A stretch of the scenario, for the pictures' shaded bands. */
interface ScenarioPhase {
  name: string;
  startSeconds: number;
  endSeconds: number;
}

/** The scenario's Prometheus, still running with everything it scraped, and when what happened. */
export interface ScenarioRun {
  prometheus: TestPrometheus;
  startSeconds: number;
  endSeconds: number;
  phases: ScenarioPhase[];
  stop(): Promise<void>;
}

/** Length of each stretch, in seconds; `scale` shortens them all (0.2 for a quick try). */
const STRETCHES_SECONDS = {
  warmUp: 35,
  dataSourceFailing: 40,
  afterDataSource: 20,
  redisStopped: 20,
  afterRedis: 20,
  invalidationsRefused: 15,
  tail: 15,
};
const RECORDS = 40;
const CLIENTS = 4;
const RULES_FILE = fileURLToPath(new URL('../rules/express-cache-aside-rules.yml', import.meta.url));

/**
 * The demo app (src/demo) over a real Redis, scraped every second by a real Prometheus (which also
 * evaluates the shipped rules), under steady traffic from a few clients while faults come and go:
 * the data source fails, then Redis is stopped, then Redis refuses the invalidations' UNLINK (an ACL).
 */
export async function runFaultScenario(scale = 1): Promise<ScenarioRun> {
  const redis = await spawnRedis();
  const client = await connectRedis({ url: redis.url });
  const cache = createCache({
    redis: client,
    prefix: 'demo:',
    name: 'demo',
    logger: silentLogger,
    memoryTier: { ttlMs: 2_000 },
    // A busy machine must not open the circuit on its own: the faults below are the picture.
    redisTimeoutMs: 1_000,
  });
  // As `npm start` does: the Process row reads prom-client's default metrics.
  collectDefaultMetrics();
  const dataStore = new MockDataStore(100);
  await Promise.all(
    Array.from({ length: RECORDS }, (_, index) => index + 1).flatMap((id) => [
      dataStore.update(`user:${id}`, { id, name: `User ${id}` }),
      dataStore.update(`product:${id}`, { id, name: `Product ${id}`, price: id * 1.5 }),
    ]),
  );
  const app = createDemoApp(cache, dataStore);
  // Express's error handler stays quiet about the failures the scenario causes on purpose.
  app.set('env', 'test');
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prometheus = await startPrometheus({
    targets: [target],
    jobName: 'demo',
    scrapeIntervalSeconds: 1,
    ruleFiles: [RULES_FILE],
  });
  await eventually(async () => (await prometheus.query('up{job="demo"} == 1')).length > 0, {
    timeoutMs: 60_000,
    intervalMs: 250,
    message: 'the first scrape of the demo',
  });

  const traffic = new Traffic(`http://${target}`);
  const phases: ScenarioPhase[] = [];
  const stretch = (seconds: number) => sleep(seconds * scale * 1000);
  const during = async (
    name: string,
    seconds: number,
    begin: () => Promise<void>,
    end: () => Promise<void>,
  ) => {
    const startSeconds = Date.now() / 1000;
    await begin();
    await stretch(seconds);
    await end();
    phases.push({ name, startSeconds, endSeconds: Date.now() / 1000 });
  };
  const startSeconds = Date.now() / 1000;
  const running = traffic.run();
  try {
    await stretch(STRETCHES_SECONDS.warmUp);
    await during(
      'data source down',
      STRETCHES_SECONDS.dataSourceFailing,
      async () => {
        dataStore.failing = true;
      },
      async () => {
        dataStore.failing = false;
      },
    );
    await stretch(STRETCHES_SECONDS.afterDataSource);
    await during(
      'Redis down',
      STRETCHES_SECONDS.redisStopped,
      () => redis.stop(),
      () => redis.start(),
    );
    await stretch(STRETCHES_SECONDS.afterRedis);
    await during(
      'UNLINK denied (ACL)',
      STRETCHES_SECONDS.invalidationsRefused,
      () => setUnlink(redis, false),
      () => setUnlink(redis, true),
    );
    await stretch(STRETCHES_SECONDS.tail);
  } finally {
    traffic.stop();
    await running;
  }
  const endSeconds = Date.now() / 1000;
  // Two more scrapes, so that the last requests are in Prometheus.
  await sleep(2_500);
  return {
    prometheus,
    startSeconds,
    endSeconds,
    phases,
    stop: async () => {
      await prometheus.stop();
      await new Promise((resolve) => server.close(resolve));
      await cache.close();
      client.destroy();
      await redis.dispose();
    },
  };
}

/** Grants or revokes UNLINK, the command every invalidation ends with (and nothing else uses). */
async function setUnlink(redis: RedisProcess, allowed: boolean): Promise<void> {
  const admin = await createClient({ url: redis.url }).connect();
  try {
    await admin.sendCommand(['ACL', 'SETUSER', 'default', allowed ? '+unlink' : '-unlink']);
  } finally {
    await admin.quit();
  }
}

/** A few clients reading users and products (a few ids far more than others), and editing users. */
class Traffic {
  #stopped = false;
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  async run(): Promise<void> {
    const clients = Array.from({ length: CLIENTS }, (_, index) => this.#client(index));
    await Promise.all([...clients, this.#editor()]);
  }

  stop(): void {
    this.#stopped = true;
  }

  async #client(seed: number): Promise<void> {
    let random = seed + 1;
    const next = () => {
      // A small deterministic generator: the same scenario draws the same requests.
      random = (random * 16807) % 2147483647;
      return random / 2147483647;
    };
    while (!this.#stopped) {
      const roll = next();
      const id = popularId(next());
      if (roll < 0.05) await this.#get(`/api/users/${id}`, { authorization: 'Bearer reader' });
      else if (roll < 0.08) await this.#get(`/api/users/${RECORDS + 1 + Math.floor(next() * 500)}`);
      else if (roll < 0.55) await this.#get(`/api/users/${id}`);
      else await this.#get(`/api/products/${id}`);
      await sleep(15);
    }
  }

  async #editor(): Promise<void> {
    let round = 0;
    while (!this.#stopped) {
      await sleep(2_000);
      round++;
      await this.#call('PUT', `/api/users/${1 + (round % 10)}`, JSON.stringify({ name: `Edited ${round}` }));
    }
  }

  #get(path: string, headers: Record<string, string> = {}): Promise<void> {
    return this.#call('GET', path, undefined, headers);
  }

  async #call(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<void> {
    try {
      const response = await fetch(this.#base + path, {
        method,
        body,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
    } catch {
      // A failed request is part of the picture (the metrics count it); the clients go on.
    }
  }
}

/** Ids 1…RECORDS, the first ones far more often (Zipf-like), from a uniform draw in [0, 1). */
function popularId(uniform: number): number {
  return Math.min(RECORDS, Math.floor((RECORDS + 1) ** uniform));
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import type { Cache } from '../../../src/engine/cache.js';
import { createCache, responseCache } from '../../../src/index.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually, holdsWithin } from '../../support/eventually.js';
import {
  type ClusterConnectOptions,
  startRedisCluster,
  type TestRedisCluster,
} from '../../support/redis-cluster.js';
import { silentLogger } from '../../support/silent-logger.js';

const IDS = Array.from({ length: 30 }, (_, index) => index);
const CLIENTS = 6;
const PAUSE_MS = 5;
// Deadlines that tell a hang from slowness (a busy machine may take many seconds), not speed limits.
const WARM_UP_TIMEOUT_MS = 30_000;
const RESUME_TIMEOUT_MS = 30_000;
/** A request that takes longer has hung, and counts as failed. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_REQUESTS_PER_CLIENT = 20_000;

/** The createCluster options of the README's "Redis Cluster" section. */
const README_CLUSTER_OPTIONS: ClusterConnectOptions = {
  defaults: { disableOfflineQueue: true },
  topologyRefreshOnReconnectionAttemptStrategy: 500,
};

interface Answer {
  id: number;
  atMs: number;
  status: number | 'network error';
  xCache: string | null;
}

/**
 * `CLIENTS` loops of GET /items/:id over every id, each pausing `PAUSE_MS` between requests, until
 * `stop()`; every answer is recorded, and a network error or a request slower than
 * `REQUEST_TIMEOUT_MS` as a failure.
 */
function steadyLoad(baseUrl: string) {
  const answers: Answer[] = [];
  let running = true;
  const loops = Array.from({ length: CLIENTS }, async (_, client) => {
    for (let turn = client; running && turn < MAX_REQUESTS_PER_CLIENT; turn += 1) {
      const id = IDS[turn % IDS.length] as number;
      try {
        const response = await fetch(`${baseUrl}/items/${id}`, {
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        answers.push({
          id,
          atMs: Date.now(),
          status: response.status,
          xCache: response.headers.get('x-cache'),
        });
      } catch {
        answers.push({ id, atMs: Date.now(), status: 'network error', xCache: null });
      }
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  });
  return {
    answers,
    /** True once, after `sinceMs`, every id has been answered with a HIT. */
    everyIdHitSince: (sinceMs: number) => {
      const hit = new Set(answers.filter((a) => a.atMs >= sinceMs && a.xCache === 'HIT').map((a) => a.id));
      return IDS.every((id) => hit.has(id));
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('Failover of a Redis Cluster master under steady HTTP load (3 masters, 3 replicas)', function () {
  this.timeout(4 * RESUME_TIMEOUT_MS);
  let cluster: TestRedisCluster;
  let cache: Cache | undefined;
  let server: Server | undefined;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  });

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    await cache?.close();
    server = undefined;
    cache = undefined;
  });

  after(async () => {
    await cluster?.stop();
  });

  /**
   * Serves GET /items/:id through `responseCache` over a cache on a new cluster client, kills a
   * master that has a replica under steady load, and checks that no request failed and that every
   * id is answered with a HIT again after the promotion.
   */
  async function killAMasterUnderLoad(clientOptions: ClusterConnectOptions): Promise<void> {
    cache = createCache({
      redis: await cluster.connect(clientOptions),
      prefix: 'fo:',
      registry: false,
      logger: silentLogger,
    });
    let redisFailures = 0;
    cache.events.on('failure', () => {
      redisFailures += 1;
    });
    const app = express();
    app.get('/items/:id', responseCache(cache, { ttl: 60 }), (req, res) => {
      res.json({ id: req.params.id });
    });
    const listening = app.listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    const load = steadyLoad(`http://127.0.0.1:${(listening.address() as AddressInfo).port}`);
    try {
      await eventually(() => load.everyIdHitSince(0), {
        timeoutMs: WARM_UP_TIMEOUT_MS,
        intervalMs: 20,
        message: 'every id is cached before the kill',
      });
      const [victim] = await cluster.replicatedMasters();
      expect(victim, 'a master with a replica').to.not.equal(undefined);
      const killedAtMs = Date.now();
      await victim?.kill();

      await cluster.waitUntilHealthy(RESUME_TIMEOUT_MS);
      const promotedAtMs = Date.now();
      const resumed = await holdsWithin(() => load.everyIdHitSince(promotedAtMs), {
        timeoutMs: RESUME_TIMEOUT_MS,
        intervalMs: 20,
      });
      const resumedAtMs = Date.now();
      await load.stop();

      expect(
        load.answers.filter((answer) => answer.status !== 200),
        'failed requests',
      ).to.deep.equal([]);
      expect(resumed, `every id HIT again within ${RESUME_TIMEOUT_MS} ms of the promotion`).to.equal(true);
      expect(redisFailures, 'the kill was felt: Redis calls failed and were absorbed').to.be.greaterThan(0);
      const outage = load.answers.filter((a) => a.atMs > killedAtMs && a.atMs < promotedAtMs);
      console.log(
        `      ${load.answers.length} requests, none failed; replica promoted ${promotedAtMs - killedAtMs} ms ` +
          `after the kill, every id a HIT again ${resumedAtMs - promotedAtMs} ms later; ` +
          `${outage.filter((a) => a.xCache === 'HIT').length}/${outage.length} HITs during the outage`,
      );
    } finally {
      await load.stop();
    }
  }

  it('with a default createCluster() client: no request fails, and HITs resume after the promotion', async () => {
    await killAMasterUnderLoad({});
  });

  it('with the client options the README suggests: no request fails, and HITs resume after the promotion', async () => {
    await killAMasterUnderLoad(README_CLUSTER_OPTIONS);
  });
});

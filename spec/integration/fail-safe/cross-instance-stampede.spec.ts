import { expect } from 'chai';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { rawGet } from '../../support/raw-request.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { startWorkerCluster, type WorkerCluster } from '../../support/worker-cluster.js';

const WORKERS = 4;
const REQUESTS = 200;
const LOAD_DELAY_MS = 300;

interface Answer {
  status: number;
  xCache: string | null;
  body: { key: string; worker: number; run: number };
}

/**
 * `REQUESTS` concurrent GETs of `path`, spread round-robin over the workers, all for one host, as a load
 * balancer in front of them forwards them (keys hold the origin, so the workers' own ports must not show).
 */
async function stampede(cluster: WorkerCluster, path: string): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: REQUESTS }, async (_, index) => {
      const worker = cluster.workers[index % cluster.workers.length];
      const response = await rawGet(Number(new URL(String(worker?.baseUrl)).port), path, {
        host: 'shop.example',
      });
      return {
        status: response.status,
        xCache: (response.headers['x-cache'] as string | undefined) ?? null,
        body: JSON.parse(response.body) as Answer['body'],
      };
    }),
  );
}

describe('Stampede protection across instances (4 worker processes, one Redis)', function () {
  this.timeout(60_000);
  let redis: TestRedis;
  let cluster: WorkerCluster;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    cluster = await startWorkerCluster(WORKERS, {
      redisUrl: redis.url,
      prefix: 'stampede:',
      loadDelayMs: LOAD_DELAY_MS,
      // A busy CI machine must not turn a slow Redis reply into a timeout (and a second load):
      // this spec is about the lock, not about timeouts.
      redisTimeoutMs: 2000,
    });
  });

  after(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it(`runs the loader exactly once for ${REQUESTS} concurrent requests of one cold key`, async () => {
    const answers = await stampede(cluster, '/engine/cold');

    expect((await cluster.totalLoads()).locked).to.equal(1);
    expect(answers.every((answer) => answer.status === 200)).to.equal(true);
    const loadedBy = new Set(answers.map((answer) => `${answer.body.worker}#${answer.body.run}`));
    expect([...loadedBy], 'every instance served the one loaded value').to.have.length(1);
    const perWorker = await Promise.all(cluster.workers.map((worker) => worker.stats()));
    expect(
      perWorker.map(({ stats }) => stats.misses + stats.hits),
      'every worker took its share of the requests',
    ).to.deep.equal(Array.from({ length: WORKERS }, () => REQUESTS / WORKERS));
  });

  it(`through responseCache: the handler runs exactly once for ${REQUESTS} concurrent requests`, async () => {
    const answers = await stampede(cluster, '/http/cold');

    expect((await cluster.totalLoads()).http).to.equal(1);
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array.from({ length: REQUESTS }, () => 200));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size, 'one body for all').to.equal(
      1,
    );
    expect(answers.every((answer) => answer.xCache === 'MISS' || answer.xCache === 'HIT')).to.equal(true);
  });

  it('without the lock (lockTtlMs: 0), each instance loads the key itself: the control', async () => {
    await stampede(cluster, '/engine-unlocked/cold');

    // Single-flight still holds within a process; only the cross-instance lock makes it one.
    expect((await cluster.totalLoads()).unlocked).to.equal(WORKERS);
  });
});

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { FailureOperation } from '../../../src/events.js';
import { responseCacheKey } from '../../../src/http/response-cache-key.js';
import { createRedisClient, type RedisConnection } from '../../../src/redis-connection.js';
import { PATIENT_REDIS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { rawGet } from '../../support/raw-request.js';
import { type RedisProcess, spawnRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';

/** The host every request names, as behind a load balancer: the primary's and the replica's apps share entries. */
const HOST = 'shop.example';
/** Bounds of a wait for Redis to hold a write: a hang, not speed. */
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };

interface Observed {
  failures: { operation: FailureOperation; message: string }[];
  circuitOpened: boolean;
}

interface Answer {
  status: number;
  xCache: string | null;
  body: { id?: string };
}

/** Everything one spec needs: an app over a cache over `redis`, and a second client to tamper with Redis. */
class Harness {
  readonly observed: Observed = { failures: [], circuitOpened: false };
  constructor(
    readonly cache: Cache,
    readonly app: CachedApp,
    readonly client: RedisConnection,
    readonly admin: RedisConnection,
  ) {
    cache.events.on('failure', ({ operation, error }) =>
      this.observed.failures.push({
        operation,
        message: error instanceof Error ? error.message : String(error),
      }),
    );
    cache.events.on('circuit', ({ open }) => {
      if (open) this.observed.circuitOpened = true;
    });
  }

  static async start(redis: RedisProcess, prefix: string): Promise<Harness> {
    const client = await createRedisClient({ url: redis.url }).connect();
    const admin = await createRedisClient({ url: redis.url }).connect();
    const cache = createCache({
      redis: client,
      prefix,
      registry: false,
      logger: silentLogger,
      // About error replies, not timeouts: a busy machine's slow reply must not count as a failure.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    return new Harness(cache, await startCachedApp(cache), client, admin);
  }

  /** The Redis key that holds the cached response of `GET /items/:id`. */
  entryKey(id: string): string {
    return this.cache.entryKey(responseCacheKey(`http://${HOST}/items/${id}`));
  }

  /** Asks for `id` as a load balancer would: for the public host, whichever instance answers. */
  async get(id: string): Promise<Answer> {
    const port = Number(new URL(this.app.baseUrl).port);
    const response = await rawGet(port, `/items/${id}`, { host: HOST });
    return {
      status: response.status,
      xCache: (response.headers['x-cache'] as string | undefined) ?? null,
      body: JSON.parse(response.body) as Answer['body'],
    };
  }

  /** Requests `id` once and waits until its entry is in Redis (the response goes out before the write). */
  async warm(id: string): Promise<void> {
    await this.get(id);
    await eventually(async () => (await this.admin.type(this.entryKey(id))) === 'string', WAIT);
  }

  /** One concurrent request per id, as a burst of traffic would send them. */
  async burst(ids: readonly string[]): Promise<Answer[]> {
    return Promise.all(ids.map((id) => this.get(id)));
  }

  failuresOf(operation: FailureOperation, messagePart: string): number {
    return this.observed.failures.filter((f) => f.operation === operation && f.message.includes(messagePart))
      .length;
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.cache.close();
    this.client.destroy();
    this.admin.destroy();
  }
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

describe('Misbehaving Redis: every request still succeeds, every error is observed', function () {
  this.timeout(60_000);
  const redises: RedisProcess[] = [];
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
    await Promise.all(redises.splice(0).map((redis) => redis.dispose()));
  });

  async function redisWith(args: string[] = []): Promise<RedisProcess> {
    const redis = await spawnRedis(args);
    redises.push(redis);
    return redis;
  }

  describe('out of memory (maxmemory with noeviction)', () => {
    it('answers every request, keeps serving what is cached, and counts the refused calls', async () => {
      const redis = await redisWith(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
      harness = await Harness.start(redis, 'oom:');
      await harness.warm('cached');
      // Big values first, then small ones: a refused big write can leave room for small ones.
      let full = false;
      for (const size of [16 * 1024, 256]) {
        full = false;
        for (let index = 0; index < 2000 && !full; index++) {
          full = await harness.admin.set(`filler:${size}:${index}`, Buffer.alloc(size, 1)).then(
            () => false,
            (error: Error) => error.message.startsWith('OOM'),
          );
        }
      }
      expect(full, 'Redis refuses writes').to.equal(true);
      // Buffers come and go and would let a few writes land now and then: hold Redis over its limit.
      const usedBytes = Number(/used_memory:(\d+)/.exec(await harness.admin.info('memory'))?.[1]);
      await harness.admin.configSet('maxmemory', String(Math.floor(usedBytes / 2)));

      const misses = await harness.burst(ids('new', 20));
      const cached = await harness.burst(Array.from({ length: 5 }, () => 'cached'));

      expect(misses.map((a) => [a.status, a.body.id])).to.deep.equal(ids('new', 20).map((id) => [200, id]));
      expect(misses.every((a) => a.xCache === 'MISS')).to.equal(true);
      expect(
        cached.map((a) => a.xCache),
        'entries cached before keep being hits',
      ).to.deep.equal(Array.from({ length: 5 }, () => 'HIT'));
      // Each miss's lock script, which also reads its lease, is refused: a load without a lease stores
      // nothing, so no write is sent that Redis would refuse too.
      expect(harness.failuresOf('lock_acquire', 'OOM'), 'refused lock scripts, each observed').to.equal(20);
      expect(harness.failuresOf('set', 'OOM'), 'no doomed write sent').to.equal(0);
      expect(harness.cache.stats().errors).to.be.at.least(20);
      expect(harness.observed.circuitOpened, 'Redis answers: the circuit stays closed').to.equal(false);
    });
  });

  describe('a read-only replica', () => {
    it('answers every request, serves the replicated entries as hits, and counts the refused calls', async () => {
      const primary = await redisWith(['--repl-diskless-sync-delay', '0']);
      const replica = await redisWith(['--replicaof', primary.host, String(primary.port)]);
      const onPrimary = await Harness.start(primary, 'replica:');
      try {
        await onPrimary.warm('cached');
      } finally {
        await onPrimary.stop();
      }
      harness = await Harness.start(replica, 'replica:');
      await eventually(async () => (await harness?.admin.exists(harness.entryKey('cached'))) === 1, WAIT);

      const misses = await harness.burst(ids('new', 20));
      const cached = await harness.burst(Array.from({ length: 5 }, () => 'cached'));

      expect(misses.map((a) => [a.status, a.body.id])).to.deep.equal(ids('new', 20).map((id) => [200, id]));
      expect(cached.map((a) => a.xCache)).to.deep.equal(Array.from({ length: 5 }, () => 'HIT'));
      // As on a full Redis: the lock script (lock and lease) is refused, and no write is sent.
      expect(harness.failuresOf('lock_acquire', 'READONLY'), 'refused lock scripts, observed').to.equal(20);
      expect(harness.failuresOf('set', 'READONLY'), 'no doomed write sent').to.equal(0);
      expect(harness.observed.circuitOpened, 'Redis answers: the circuit stays closed').to.equal(false);
    });
  });

  describe('a value of the wrong type at an entry key', () => {
    it('answers from the loader, counts the error, overwrites the key and serves hits again', async () => {
      const redis = await redisWith();
      harness = await Harness.start(redis, 'wrongtype:');
      await harness.admin.rPush(harness.entryKey('hot'), ['a', 'list']);
      await harness.admin.hSet(harness.entryKey('other'), { a: 'hash' });
      await harness.warm('cached');

      const hot = await harness.burst(Array.from({ length: 20 }, () => 'hot'));
      const other = await harness.get('other');
      const cached = await harness.get('cached');

      expect(hot.map((a) => [a.status, a.body.id])).to.deep.equal(
        Array.from({ length: 20 }, () => [200, 'hot']),
      );
      expect([other.status, other.body.id]).to.deep.equal([200, 'other']);
      expect(harness.failuresOf('get', 'WRONGTYPE'), 'observed').to.be.at.least(2);
      expect(cached.xCache, 'other keys are unaffected').to.equal('HIT');
      await eventually(async () => (await harness?.admin.type(harness.entryKey('hot'))) === 'string', WAIT);
      expect((await harness.get('hot')).xCache, 'the bad key was overwritten').to.equal('HIT');
      expect(harness.observed.circuitOpened, 'one bad key does not open the circuit for all').to.equal(false);
    });
  });

  describe('garbage at an entry key', () => {
    it('answers from the loader, counts the error, overwrites the key and serves hits again', async () => {
      const redis = await redisWith();
      harness = await Harness.start(redis, 'garbage:');
      await harness.admin.set(harness.entryKey('hot'), randomBytes(64));
      await harness.admin.set(harness.entryKey('text'), 'not a cache entry');
      const garbageAt: Record<string, string | null> = {
        hot: await harness.admin.get(harness.entryKey('hot')),
        text: await harness.admin.get(harness.entryKey('text')),
      };

      const hot = await harness.burst(Array.from({ length: 20 }, () => 'hot'));
      const text = await harness.get('text');

      expect(hot.map((a) => [a.status, a.body.id])).to.deep.equal(
        Array.from({ length: 20 }, () => [200, 'hot']),
      );
      expect([text.status, text.body.id]).to.deep.equal([200, 'text']);
      expect(harness.failuresOf('decode', ''), 'observed').to.be.at.least(2);
      for (const [id, garbage] of Object.entries(garbageAt)) {
        await eventually(async () => (await harness?.admin.get(harness.entryKey(id))) !== garbage, WAIT);
      }
      expect((await harness.get('hot')).xCache).to.equal('HIT');
      expect((await harness.get('text')).xCache).to.equal('HIT');
    });
  });
});

import { expect } from 'chai';
import { createClient } from 'redis';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { FailureOperation } from '../../../src/events.js';
import { createRedisClient } from '../../../src/redis-connection.js';
import { PATIENT_REDIS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { withRedisOutage } from '../../support/redis-outage.js';
import { useRedisPerTest } from '../../support/redis-server-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';
import { type VersionedCache, versionedCache } from '../../support/versioned-cache.js';

/** Longer than any test: only an invalidation, or Redis's own answer, can change what memory serves. */
const TIER = { maxEntries: 1000, maxBytes: 1_000_000, ttlMs: 60_000 };

type AnyRedisClient = ReturnType<typeof createClient>;

interface CacheOptionsForSpec {
  redisTimeoutMs: number;
  circuitBreakerThreshold?: number;
  circuitBreakerHalfOpenAfterMs?: number;
}

/** What a cache reported: the failures it observed, and how many writes Redis took. */
class Observed {
  readonly failures: { operation: FailureOperation; message: string }[] = [];
  /** Writes that Redis answered without an error (it stored them, or refused them for their lease). */
  writesTaken = 0;

  constructor(cache: Cache) {
    cache.events.on('failure', ({ operation, error }) =>
      this.failures.push({ operation, message: error instanceof Error ? error.message : String(error) }),
    );
    cache.events.on('store-operation', ({ operation, failed }) => {
      if (operation === 'set' && !failed) this.writesTaken++;
    });
  }

  /** Failures of Redis calls (not of the connection itself) whose message holds `part`. */
  callFailures(part = ''): number {
    return this.failures.filter((f) => f.operation !== 'connection' && f.message.includes(part)).length;
  }
}

/** A cache under test, what it reports, and a way to read versions through it. */
interface Subject {
  cache: Cache;
  observed: Observed;
  reader: VersionedCache;
}

/** A cache over `client` with a memory tier. */
function tieredCache(client: AnyRedisClient, options: CacheOptionsForSpec): Subject {
  const cache = createCache({
    redis: client,
    prefix: 'consistency:',
    registry: false,
    logger: silentLogger,
    memoryTier: TIER,
    ...options,
  });
  return { cache, observed: new Observed(cache), reader: versionedCache(cache) };
}

/**
 * Makes Redis refuse every write (OOM, with `noeviction`) while it still answers reads and deletes:
 * fills it past a small `maxmemory`, then holds it over the limit (freed buffers would otherwise
 * let a write land now and then). Bounded: at most 2000 fillers of each size.
 */
async function refuseWrites(admin: AnyRedisClient): Promise<void> {
  await admin.configSet('maxmemory-policy', 'noeviction');
  await admin.configSet('maxmemory', String(2 * 1024 * 1024));
  // Big values first, then small ones: a refused big write can leave room for small ones.
  let full = false;
  for (const size of [16 * 1024, 256]) {
    full = false;
    for (let index = 0; index < 2000 && !full; index++) {
      full = await admin.set(`filler:${size}:${index}`, Buffer.alloc(size, 1)).then(
        () => false,
        (error: Error) => error.message.startsWith('OOM'),
      );
    }
  }
  expect(full, 'Redis refuses writes').to.equal(true);
  const usedBytes = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
  await admin.configSet('maxmemory', String(Math.floor(usedBytes / 2)));
}

describe('The in-process tier holds only what Redis holds', function () {
  this.timeout(60_000);
  const clients: AnyRedisClient[] = [];
  let opened: Cache | undefined;

  const redis = useRedisPerTest(async () => {
    await opened?.close();
    opened = undefined;
    for (const client of clients.splice(0)) client.destroy();
  });

  async function connect(client: AnyRedisClient): Promise<AnyRedisClient> {
    clients.push(client);
    // node-redis throws when a client emits `error` with no listener, and these see Redis go.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** The cache of the running test, closed after it. */
  function open(client: AnyRedisClient, options: CacheOptionsForSpec): Subject {
    const subject = tieredCache(client, options);
    opened = subject.cache;
    return subject;
  }

  describe('when Redis refuses writes (maxmemory, noeviction)', () => {
    let admin: AnyRedisClient;
    let subject: Subject;

    beforeEach(async () => {
      admin = await connect(createClient({ url: redis.current.url }));
      // About error replies, not timeouts: a busy machine's slow reply must not count as a failure.
      subject = open(await connect(createClient({ url: redis.current.url })), {
        redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
      });
    });

    it('answers a get from its loader, keeps nothing in memory, and after a successful invalidateTags serves the new version', async () => {
      const { cache, observed, reader } = subject;
      // While Redis takes writes, memory keeps what is read: the second read runs no loader.
      expect(await reader.read('control', 1, ['control'])).to.deep.equal({ version: 1, loads: 1 });
      expect(await reader.read('control', 2, ['control'])).to.deep.equal({ version: 1, loads: 1 });
      expect(cache.stats().memoryEntries, 'the tier holds what Redis took').to.equal(1);

      await refuseWrites(admin);
      const writesTaken = observed.writesTaken;
      expect(await reader.read('user:1', 1, ['users']), 'the caller gets the loaded value').to.deep.equal({
        version: 1,
        loads: 1,
      });
      expect(observed.callFailures('OOM'), "Redis refused the cache's write").to.be.greaterThan(0);
      expect(cache.stats().memoryEntries, 'nothing new in memory').to.equal(1);
      expect(
        await reader.read('user:1', 2, ['users']),
        'the next get runs the loader again: nothing was kept',
      ).to.deep.equal({ version: 2, loads: 2 });
      expect(observed.writesTaken, 'Redis took no write').to.equal(writesTaken);
      expect(await admin.exists(cache.entryKey('user:1')), 'Redis holds no entry').to.equal(0);

      await admin.configSet('maxmemory', '0');
      // Redis never took the tag index, so this finds nothing to drop: a value kept in memory
      // would outlive it for the tier's whole ttlMs.
      expect(await cache.invalidateTags(['users']), 'the invalidation succeeds, and finds nothing').to.equal(
        0,
      );
      expect(await reader.read('user:1', 3, ['users']), 'no old value is served').to.deep.equal({
        version: 3,
        loads: 3,
      });
      // Now that Redis takes writes again, memory keeps the value again.
      expect(await reader.read('user:1', 4, ['users'])).to.deep.equal({ version: 3, loads: 3 });
      expect(cache.stats().memoryEntries).to.equal(2);
    });

    it('keeps nothing in memory from a set that Redis refused', async () => {
      const { cache, observed, reader } = subject;
      await refuseWrites(admin);
      await cache.set('user:2', { version: 1 }, { tags: ['users'] });
      expect(observed.callFailures('OOM'), 'Redis refused the write').to.be.greaterThan(0);
      expect(observed.writesTaken, 'Redis took no write').to.equal(0);
      expect(cache.stats().memoryEntries).to.equal(0);
      expect(await reader.read('user:2', 2, ['users']), 'the get loads').to.deep.equal({
        version: 2,
        loads: 1,
      });
    });
  });

  /** How the cache's client behaves while Redis is down, and how long the cache waits for a call. */
  interface ClientVariant {
    name: string;
    connect(url: string): AnyRedisClient;
    redisTimeoutMs: number;
  }

  const VARIANTS: readonly ClientVariant[] = [
    {
      name: 'createRedisClient (commands fail at once while disconnected)',
      connect: (url) => createRedisClient({ url, maxReconnectDelayMs: 50 }),
      // Nothing waits on a timeout here: a disconnected client rejects every command at once.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    },
    {
      name: "node-redis's default client (commands queue while disconnected, and are sent once it is back)",
      connect: (url) => createClient({ url, socket: { reconnectStrategy: () => 50 } }),
      // A queued command gets no answer while Redis is down: only the timeout ends the cache's wait.
      redisTimeoutMs: 400,
    },
  ];

  for (const variant of VARIANTS) {
    describe(`when Redis is stopped, with ${variant.name}`, () => {
      it('answers from the loader, keeps nothing in memory, and after Redis is back and a successful invalidateTags serves the new version', async () => {
        const client = await connect(variant.connect(redis.current.url));
        const { cache, observed, reader } = open(client, {
          redisTimeoutMs: variant.redisTimeoutMs,
          // The first failures open the circuit, and its probe comes soon after.
          circuitBreakerThreshold: 2,
          circuitBreakerHalfOpenAfterMs: 100,
        });

        await withRedisOutage(redis.current, {
          noticed: () => !client.isReady,
          noticedWithin: { timeoutMs: 10_000, maxTries: 1000, message: 'the client saw Redis go' },
          whileDown: async () => {
            expect(
              await reader.read('user:1', 1, ['users']),
              'the caller gets the loaded value',
            ).to.deep.equal({
              version: 1,
              loads: 1,
            });
            expect(observed.callFailures(), 'the cache saw its Redis calls fail').to.be.greaterThan(0);
            expect(
              await reader.read('user:1', 2, ['users']),
              'the next get runs the loader again: nothing was kept',
            ).to.deep.equal({ version: 2, loads: 2 });
            // The application's own write fails too (a queued one may reach Redis once it is back).
            await cache.set('user:1', { version: 10 }, { tags: ['users'] });
            expect(
              await reader.read('user:1', 3, ['users']),
              'nothing was kept from the set either',
            ).to.deep.equal({ version: 3, loads: 3 });
            expect(observed.writesTaken, 'Redis took no write while down').to.equal(0);
            expect(cache.stats().memoryEntries, 'nothing in memory').to.equal(0);
          },
          // Until the cache reaches Redis again: the client reconnected (and sent what it had queued,
          // before this call), and the circuit's probe passed.
          recovered: async () => (await cache.ttl('user:1')) >= -2,
          recoveredWithin: {
            timeoutMs: 20_000,
            maxTries: 400,
            intervalMs: 50,
            message: 'the cache reaches Redis again',
          },
        });
        // Whatever of the failed writes reached Redis late is tagged, and goes now.
        expect(await cache.invalidateTags(['users']), 'the invalidation succeeds').to.be.a('number');
        expect(await reader.read('user:1', 4, ['users']), 'no old value is served').to.deep.equal({
          version: 4,
          loads: 4,
        });
        // Now that Redis takes writes again, memory keeps the value again.
        expect(await reader.read('user:1', 5, ['users'])).to.deep.equal({ version: 4, loads: 4 });
        expect(cache.stats().memoryEntries).to.equal(1);
      });
    });
  }
});

import { expect } from 'chai';
import { createClient } from 'redis';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import { startTierWorker, type TierWorker } from '../../support/tier-worker-process.js';
import { type VersionedCache, type VersionedRead, versionedCache } from '../../support/versioned-cache.js';

const PREFIX = 'xproc:';
const CHANNEL = `${PREFIX}__ca:invalidations`;
/** How long a tier holds an entry: within a test, only an announcement can drop it. */
const TIER_TTL_MS = 60_000;
/** How long a test waits for an announcement to show: a bound on a hang, far below TIER_TTL_MS. */
const DELIVERY_BOUNDS = { timeoutMs: 15_000, maxTries: 2000, intervalMs: 5 };

const connectTo = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connectTo>>;

/** A cache in this process and the client it alone uses. */
interface LocalCache {
  cache: Cache;
  close(): Promise<void>;
}

/** The names one test uses, its own so that no test sees another's entries. */
interface TestKeys {
  key: string;
  tag: string;
  /** A glob (without the prefix) that matches `key`. */
  pattern: string;
}

/** A change one instance makes to an entry that another instance's tier holds. */
interface Change {
  name: string;
  run(announcer: VersionedCache, keys: TestKeys, version: number): Promise<unknown>;
  /** Whether the entry leaves Redis, so that the holder's loader runs for the new version. */
  removes: boolean;
}

const CHANGES: readonly Change[] = [
  { name: 'invalidate', run: (announcer, { key }) => announcer.invalidate(key), removes: true },
  { name: 'invalidateTags', run: (announcer, { tag }) => announcer.invalidateTags([tag]), removes: true },
  {
    name: 'invalidatePattern',
    run: (announcer, { pattern }) => announcer.invalidatePattern(pattern),
    removes: true,
  },
  { name: 'expire', run: (announcer, { key }) => announcer.expire(key, 0), removes: true },
  {
    name: 'set',
    run: (announcer, { key, tag }, version) => announcer.set(key, version, [tag]),
    removes: false,
  },
];

function keysFor(scenario: string, change: Change): TestKeys {
  return {
    key: `${scenario}:${change.name}:item`,
    tag: `${scenario}:${change.name}`,
    pattern: `${scenario}:${change.name}:*`,
  };
}

describe('Invalidations announced across processes', function () {
  this.timeout(60_000);
  let redis: TestRedis;
  let admin: Client;
  /** Writes entries behind the back of the caches under test (it has no tier and never reads). */
  let tamperer: LocalCache;
  let tieredWorker: TierWorker;
  let plainWorker: TierWorker;
  /** The caches of the running test, closed after it. */
  const testCaches: LocalCache[] = [];

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    admin = await connectTo(redis.url);
    [tieredWorker, plainWorker] = await Promise.all([
      startTierWorker({ redisUrl: redis.url, prefix: PREFIX, memoryTierTtlMs: TIER_TTL_MS }),
      startTierWorker({ redisUrl: redis.url, prefix: PREFIX, memoryTierTtlMs: false }),
    ]);
    tamperer = await openLocalCache(false);
  });

  after(async () => {
    await Promise.allSettled([tieredWorker?.stop(), plainWorker?.stop(), tamperer?.close()]);
    await admin?.close();
    await redis?.stop();
  });

  afterEach(async () => {
    await Promise.all(testCaches.splice(0).map((local) => local.close()));
  });

  /** A cache in this process, over a client of its own. */
  async function openLocalCache(tier: boolean): Promise<LocalCache> {
    const client = await connectTo(redis.url);
    const cache = createCache({
      redis: client,
      prefix: PREFIX,
      registry: false,
      logger: silentLogger,
      memoryTier: tier ? { maxEntries: 1000, maxBytes: 1_000_000, ttlMs: TIER_TTL_MS } : false,
      // Not about timeouts: a busy machine's slow reply must not fail a read or an invalidation.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    return {
      cache,
      close: async () => {
        await cache.close();
        await client.close();
      },
    };
  }

  /** A cache in this process for the running test only. */
  async function testCache(tier: boolean): Promise<VersionedCache> {
    const local = await openLocalCache(tier);
    testCaches.push(local);
    return versionedCache(local.cache);
  }

  /**
   * Waits until exactly `count` connections listen on the channel: every live instance subscribes,
   * tier or not (both workers, the tamperer and this test's cache), and none is left over from a
   * closed cache. An announcement made before a
   * subscriber listens is lost to it, so no test announces before this.
   */
  /** Live instances during a test: both workers, the tamperer and this test's cache. */
  const INSTANCES = 4;

  async function expectListeners(count: number): Promise<void> {
    await eventually(async () => {
      const listening = (await admin.pubSubNumSub(CHANNEL))[CHANNEL];
      expect(listening, `${count} instances listen on ${CHANNEL} (PUBSUB NUMSUB)`).to.equal(count);
    });
  }

  /** Puts `{ version }` at `key` in Redis with no announcement, as another writer than the cache would. */
  async function replaceBehindTheBack(key: string, version: number): Promise<void> {
    const scratch = `scratch:${key}`;
    await tamperer.cache.set(scratch, { version });
    const copied = await admin.copy(tamperer.cache.entryKey(scratch), tamperer.cache.entryKey(key), {
      REPLACE: true,
    });
    expect(copied, 'Redis holds the other version').to.equal(1);
  }

  /**
   * The holder reads version 1 into its tier, Redis gets version 2 behind its back (the holder
   * still answers 1: it is served from memory), then the announcer makes `change`. The holder's
   * tier would keep version 1 for TIER_TTL_MS: only the announcement can make it answer otherwise
   * within DELIVERY_BOUNDS.
   */
  async function expectDropped(
    holder: VersionedCache,
    announcer: VersionedCache,
    change: Change,
    keys: TestKeys,
  ): Promise<void> {
    const { key, tag } = keys;
    expect(await holder.read(key, 1, [tag]), 'the holder loads version 1').to.deep.equal({
      version: 1,
      loads: 1,
    });
    await replaceBehindTheBack(key, 2);
    expect(
      await holder.read(key, 2, [tag]),
      'the holder serves version 1 from memory, though Redis holds version 2',
    ).to.deep.equal({ version: 1, loads: 1 });

    await change.run(announcer, keys, 3);

    let last: VersionedRead | undefined;
    await eventually(async () => {
      last = await holder.read(key, 3, [tag]);
      expect(
        last.version,
        `${change.name} reached the holder's tier (read: ${JSON.stringify(last)})`,
      ).not.to.equal(1);
    }, DELIVERY_BOUNDS);
    // A removal leaves Redis empty, so the holder loads version 3; a set gives it version 3 from Redis.
    expect(last, 'what the holder reads once its copy is gone').to.deep.equal({
      version: 3,
      loads: change.removes ? 2 : 1,
    });
  }

  for (const parentTier of [false, true]) {
    const scenario = parentTier ? 'tiered-parent' : 'plain-parent';
    describe(`from this process (a cache ${parentTier ? 'with' : 'without'} a tier) to a child process's tier`, () => {
      for (const change of CHANGES) {
        it(`${change.name} drops the child's copy`, async () => {
          const parent = await testCache(parentTier);
          await expectListeners(INSTANCES);
          await expectDropped(tieredWorker, parent, change, keysFor(scenario, change));
        });
      }
    });
  }

  for (const childTier of [true, false]) {
    const scenario = childTier ? 'tiered-child' : 'plain-child';
    describe(`from a child process (a cache ${childTier ? 'with' : 'without'} a tier) to this process's tier`, () => {
      for (const change of CHANGES) {
        it(`${change.name} drops this process's copy`, async () => {
          const parent = await testCache(true);
          await expectListeners(INSTANCES);
          await expectDropped(
            parent,
            childTier ? tieredWorker : plainWorker,
            change,
            keysFor(scenario, change),
          );
        });
      }
    });
  }
});

import { expect } from 'chai';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { type ClusterClient, startRedisCluster, type TestRedisCluster } from '../../support/redis-cluster.js';
import { silentLogger } from '../../support/silent-logger.js';

const CHANNEL = 'tier:__ca:invalidations';

describe('Memory tier invalidation over a Redis Cluster (3 masters)', function () {
  this.timeout(60_000);
  let cluster: TestRedisCluster;
  const caches: Cache[] = [];

  /** Subscribers of `channel`, summed over every node: each node counts only its own connections. */
  const subscribers = async (channel: string) => {
    const counts = await Promise.all(cluster.nodes.map((node) => node.admin.pubSubNumSub(channel)));
    return counts.reduce((sum, count) => sum + (count[channel] ?? 0), 0);
  };

  async function instance(client: ClusterClient): Promise<Cache> {
    const cache = createCache({
      redis: client,
      prefix: 'tier:',
      registry: false,
      logger: silentLogger,
      memoryTier: { maxEntries: 1_000, maxBytes: 1_000_000, ttlMs: 60_000 },
      // Not about timeouts: a busy machine's slow reply must not fail a read or an invalidation.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    caches.push(cache);
    return cache;
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    cluster = await startRedisCluster({ masters: 3 });
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await cluster.flushAll();
  });

  after(async () => {
    await cluster?.stop();
  });

  it("delivers a message PUBLISHed on any master to a SUBSCRIBE on the client's duplicate()", async () => {
    const client = await cluster.connect();
    const subscriber = client.duplicate();
    subscriber.on('error', () => undefined);
    const received: string[] = [];
    try {
      await subscriber.connect();
      await subscriber.subscribe('tier:probe', (message) => received.push(message));
      const masters = await cluster.servingMasters();
      expect(masters).to.have.length(3);
      for (const master of masters) await master.admin.publish('tier:probe', `from ${master.port}`);
      await client.publish('tier:probe', 'from the cluster client');

      await eventually(async () => received.length === 4);
      expect(received).to.have.members([
        ...masters.map((master) => `from ${master.port}`),
        'from the cluster client',
      ]);
    } finally {
      subscriber.destroy();
    }
  });

  it("drops the other instance's in-memory copy on invalidate, invalidateTags and invalidatePattern", async () => {
    const admin = await cluster.connect();
    const a = await instance(await cluster.connect());
    const b = await instance(await cluster.connect());
    await eventually(async () => (await subscribers(CHANNEL)) === 2, { message: 'both instances listen' });
    let version = 1;
    const loader = async () => ({ version });
    const readByB = async (key: string) => (await b.get(key, loader)).version;

    // Stored by A's loads, which announce nothing (a set is announced, and a read of B's that
    // crossed that announcement would not be kept in memory).
    await a.get('user:1', loader);
    await a.get('user:2', loader, { tags: ['users'] });
    await a.get('user:3', loader);
    for (const key of ['user:1', 'user:2', 'user:3']) expect(await readByB(key)).to.equal(1);
    expect(b.stats().memoryEntries, 'B holds the entries in memory').to.equal(3);
    version = 2;
    // The entries change behind the memory tier's back (their tag index stays): only an
    // announcement can make B read them again.
    for (const key of ['user:1', 'user:2', 'user:3']) expect(await admin.del(`tier:${key}`)).to.equal(1);
    expect(await readByB('user:1'), 'B serves its in-memory copy while nobody announces').to.equal(1);

    await a.invalidate('user:1');
    await eventually(async () => (await readByB('user:1')) === 2);
    await a.invalidateTags(['users']);
    await eventually(async () => (await readByB('user:2')) === 2);
    await a.invalidatePattern('user:3*');
    await eventually(async () => (await readByB('user:3')) === 2);
  });
});

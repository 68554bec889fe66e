import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import type { Cache } from '../../../src/index.js';
import { createCache } from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

const connectTo = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connectTo>>;

async function getCalls(client: Client): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

async function subscribers(admin: Client): Promise<number | undefined> {
  return (await admin.pubSubNumSub('tier:__ca:invalidations'))['tier:__ca:invalidations'];
}

describe('memory tier over real Redis', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  const clients: Client[] = [];
  const caches: Cache[] = [];

  async function connect(): Promise<Client> {
    const client = await connectTo(redis.url);
    clients.push(client);
    return client;
  }

  async function instance(ttlMs: number | false = 60_000): Promise<Cache> {
    const cache = createCache({
      redis: await connect(),
      prefix: 'tier:',
      registry: new Registry(),
      memoryTier: ttlMs === false ? false : { maxEntries: 1000, maxBytes: 1_000_000, ttlMs },
      // Not about timeouts: a busy machine's slow reply must not fail a read or an invalidation.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    caches.push(cache);
    return cache;
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
  });

  after(async () => {
    await redis.stop();
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  it('answers a repeated hit from memory, without a Redis round trip', async () => {
    const cache = await instance();
    const admin = await connect();
    await admin.flushAll();
    let loads = 0;
    await cache.get('item:1', async () => ({ id: 1, loads: ++loads }));
    const before = await getCalls(admin);
    for (let i = 0; i < 20; i++)
      expect(await cache.get('item:1', async () => ({ id: 1, loads: ++loads }))).to.deep.equal({
        id: 1,
        loads: 1,
      });
    expect(await getCalls(admin)).to.equal(before);
    expect(cache.stats().hits).to.equal(20);
  });

  it("drops every instance's copy when one instance invalidates, within the pub/sub delivery time", async () => {
    const a = await instance();
    const b = await instance();
    const admin = await connect();
    // Both subscribers must be listening before the first announcement.
    await eventually(async () => (await subscribers(admin)) === 2, { message: 'both instances listen' });
    let version = 1;
    const loader = async () => ({ version });
    expect(await a.get('user:1', loader)).to.deep.equal({ version: 1 });
    expect(await b.get('user:1', loader)).to.deep.equal({ version: 1 });
    version = 2;
    // B's copy lives 60 s in its memory tier: only A's announcement, delivered over pub/sub, can
    // make B read the entry again before the deadline of `eventually` (10 s at most, a bound on a hang).
    await a.invalidate('user:1');
    await eventually(async () => (await b.get('user:1', loader)).version === 2);

    await a.set('user:1', { version: 3 });
    await eventually(async () => (await b.get('user:1', loader)).version === 3);

    await a.set('user:2', { version: 1 }, { tags: ['users'] });
    expect(await b.get('user:2', loader)).to.deep.equal({ version: 1 });
    await a.invalidateTags(['users']);
    await eventually(async () => (await b.get('user:2', loader)).version === 2);

    await a.set('user:3', { version: 1 });
    expect(await b.get('user:3', loader)).to.deep.equal({ version: 1 });
    await a.invalidatePattern('user:*');
    await eventually(async () => (await b.get('user:3', loader)).version === 2);
  });

  it('hears the invalidations of an instance that has no tier of its own', async () => {
    const plain = await instance(false);
    const tiered = await instance();
    const admin = await connect();
    // Both listen (every instance does); the tiered one must before the first announcement.
    await eventually(async () => (await subscribers(admin)) === 2, { message: 'both instances listen' });
    let version = 1;
    const loader = async () => ({ version });
    const changes: [string, () => Promise<unknown>][] = [
      ['invalidate', () => plain.invalidate('user:1')],
      ['invalidateTags', () => plain.invalidateTags(['users'])],
      ['invalidatePattern', () => plain.invalidatePattern('user:*')],
      ['expire', () => plain.expire('user:1', 0)],
      ['set', () => plain.set('user:1', { version }, { tags: ['users'] })],
    ];
    for (const [name, change] of changes) {
      await tiered.set('user:1', { version }, { tags: ['users'] });
      expect(await tiered.get('user:1', loader), `${name}: held`).to.deep.equal({ version });
      version++;
      await change();
      // The tier holds its copy 60 s: only the announcement can drop it before the deadline of `eventually`.
      await eventually(async () => (await tiered.get('user:1', loader)).version === version, {
        message: `${name} reached the other instance's tier`,
      });
    }
  });

  it('never serves an entry from memory for longer than its own ttlMs, even when an announcement is lost', async () => {
    const TIER_TTL_MS = 150;
    const a = await instance(TIER_TTL_MS);
    const admin = await connect();
    // The set puts version 1 in A's memory before it resolves; nothing reads it from Redis after.
    await a.set('item:9', { version: 1 });
    const heldSinceAtMost = performance.now();
    // Another writer changes Redis behind the tier's back, with no announcement at all.
    await admin.del('tier:item:9');

    // Each lookup sees memory as it is when it starts: one that still gets version 1 started while
    // memory held it. The deadline bounds a hang, not speed.
    const lookups: { startedAtMs: number; version: number }[] = [];
    const deadline = performance.now() + 10_000;
    while (lookups.at(-1)?.version !== 2 && performance.now() < deadline) {
      const startedAtMs = performance.now();
      const { version } = await a.get('item:9', async () => ({ version: 2 }));
      lookups.push({ startedAtMs, version });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect(lookups.at(-1)?.version, 'the change shows once the tier lets go').to.equal(2);
    // 2 ms: the tier's clock and this one round on their own.
    const servedFromMemory = lookups.filter((lookup) => lookup.version === 1);
    expect(
      servedFromMemory.filter((lookup) => lookup.startedAtMs >= heldSinceAtMost + TIER_TTL_MS + 2),
      'version 1 served from memory after its ttlMs',
    ).to.deep.equal([]);
  });

  it('keeps the process heap within the tier bound when filled far past it', async () => {
    const maxBytes = 4 * 1024 * 1024;
    const cache = createCache({
      redis: await connect(),
      prefix: 'soak:',
      registry: new Registry(),
      // Only what Redis stored enters the tier: on a busy machine the default 200 ms would refuse writes.
      redisTimeoutMs: 10_000,
      memoryTier: { maxEntries: 100_000, maxBytes, ttlMs: 60_000 },
    });
    caches.push(cache);
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'mocha runs node with --expose-gc').to.be.a('function');
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const body = 'x'.repeat(16 * 1024);
    // 48 MiB written through a 4 MiB tier.
    for (let batch = 0; batch < 24; batch++) {
      await Promise.all(
        Array.from({ length: 128 }, (_, i) =>
          cache.get(`page:${batch}:${i}`, async () => ({ batch, i, body })),
        ),
      );
    }
    gc?.();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    const stats = cache.stats();
    expect(stats.memoryBytes).to.be.at.most(maxBytes);
    expect(stats.memoryEntries).to.be.greaterThan(0);
    // The decoded values cost about what their stored bytes do; allow for that and for runtime noise.
    expect(growth).to.be.below(3 * maxBytes);
  });
});

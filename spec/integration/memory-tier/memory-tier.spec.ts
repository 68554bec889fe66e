import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import type { Cache } from '../../../src/index.js';
import { createCache } from '../../../src/index.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

const connectTo = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connectTo>>;

async function getCalls(client: Client): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return condition();
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

  async function instance(ttlMs = 60_000): Promise<Cache> {
    const cache = createCache({
      redis: await connect(),
      prefix: 'tier:',
      registry: new Registry(),
      memoryTier: { maxEntries: 1000, maxBytes: 1_000_000, ttlMs },
    });
    caches.push(cache);
    return cache;
  }

  before(async () => {
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
    // Both subscribers must be listening before the first announcement.
    await new Promise((resolve) => setTimeout(resolve, 200));
    let version = 1;
    const loader = async () => ({ version });
    expect(await a.get('user:1', loader)).to.deep.equal({ version: 1 });
    expect(await b.get('user:1', loader)).to.deep.equal({ version: 1 });
    version = 2;
    await a.invalidate('user:1');
    expect(await until(async () => (await b.get('user:1', loader)).version === 2, 1000)).to.equal(true);

    await a.set('user:1', { version: 3 });
    expect(await until(async () => (await b.get('user:1', loader)).version === 3, 1000)).to.equal(true);

    await a.set('user:2', { version: 1 }, { tags: ['users'] });
    expect(await b.get('user:2', loader)).to.deep.equal({ version: 1 });
    await a.invalidateTags(['users']);
    expect(await until(async () => (await b.get('user:2', loader)).version === 2, 1000)).to.equal(true);

    await a.set('user:3', { version: 1 });
    expect(await b.get('user:3', loader)).to.deep.equal({ version: 1 });
    await a.invalidatePattern('user:*');
    expect(await until(async () => (await b.get('user:3', loader)).version === 2, 1000)).to.equal(true);
  });

  it('never serves an entry from memory for longer than its own ttlMs, even when an announcement is lost', async () => {
    const a = await instance(150);
    const admin = await connect();
    await a.set('item:9', { version: 1 });
    expect(await a.get('item:9', async () => ({ version: 0 }))).to.deep.equal({ version: 1 });
    // Another writer changes Redis behind the tier's back, with no announcement at all.
    await admin.del('tier:item:9');
    const changedAt = Date.now();
    expect(
      await until(async () => (await a.get('item:9', async () => ({ version: 2 }))).version === 2, 2000),
    ).to.equal(true);
    expect(Date.now() - changedAt).to.be.below(1000);
  });

  it('keeps the process heap within the tier bound when filled far past it', async () => {
    const maxBytes = 4 * 1024 * 1024;
    const cache = createCache({
      redis: await connect(),
      prefix: 'soak:',
      registry: new Registry(),
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

import { expect } from 'chai';
import { createClient } from 'redis';
import { RedisStore } from '../../../src/store/redis-store.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { describeRedisStoreContract } from '../../support/redis-store-contract.js';

const connect = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connect>>;

describe('RedisStore on a real Redis', () => {
  let server: TestRedis;
  let client: Client;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    server = await startRedis();
    client = await connect(server.url);
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  describeRedisStoreContract(
    'RedisStore',
    (options) => new RedisStore(client, options),
    () => client.flushAll(),
    true,
  );

  describe('Redis specifics', () => {
    afterEach(async () => {
      await client.flushAll();
    });

    /**
     * PTTL of `key` and the range it must be in: `lifetimeMs` less what passed since `since` (a
     * `performance.now()` instant before the write), however slow the machine (1 ms for rounding).
     */
    async function remaining(key: string, lifetimeMs: number, since: number) {
      const pttl = await client.pTTL(key);
      return { pttl, from: lifetimeMs - Math.ceil(performance.now() - since) - 1, to: lifetimeMs };
    }

    it('refuses a lease taken before Redis lost its counter (restart, failover to a lagging replica)', async () => {
      const store = new RedisStore(client, { namespace: 'p:__ca:' });
      // Invalidations have raised the counter; a load takes its lease.
      await store.delete(['p:a']);
      await store.delete(['p:b']);
      const lease = await store.readLease();
      // Redis comes back empty: the counter is gone; then the key is invalidated.
      await client.flushAll();
      await store.delete(['p:item']);
      expect(await store.set('p:item', Buffer.from('v1'), { ttlMs: 60_000, lease })).to.equal('invalidated');
      expect(await client.exists('p:item')).to.equal(0);
    });

    it('invalidates on a full Redis (maxmemory, noeviction): an invalidation frees, it must not be refused', async () => {
      const store = new RedisStore(client, { namespace: 'p:__ca:' });
      await store.set('p:item', Buffer.from('v1'), { ttlMs: 60_000, tagKeys: ['p:__ca:tag:t'] });
      await store.set('p:other', Buffer.from('v1'), { ttlMs: 60_000 });
      await client.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
      try {
        expect(await client.set('p:probe', 'x').catch((error: Error) => error.message)).to.match(/^OOM/);
        expect(await store.delete(['p:other'])).to.equal(1);
        expect((await store.deleteTagged(['p:__ca:tag:t'])).deleted).to.equal(1);
        await store.set('p:again', Buffer.from('v'), { ttlMs: 60_000 }).catch(() => undefined);
        expect(await store.expire('p:again', 0)).to.equal(false);
        expect(await store.deleteMatching('p:*', 'p:__ca:')).to.equal(0);
      } finally {
        await client.configSet({ maxmemory: '0' });
      }
    });

    it('writes the entry with a PX lifetime that Redis itself enforces', async () => {
      const store = new RedisStore(client);
      const since = performance.now();
      await store.set('r:k', Buffer.from('v'), { ttlMs: 1_500 });
      const { pttl, from, to } = await remaining('r:k', 1_500, since);
      expect(pttl).to.be.within(from, to);
    });

    it('gives a tag index the lifetime of its longest-lived entry', async () => {
      const store = new RedisStore(client);
      await store.set('r:short', Buffer.from('s'), { ttlMs: 1_000, tagKeys: ['r:__ca:tag:t'] });
      expect(await client.pTTL('r:__ca:tag:t')).to.be.within(1, 1_000);
      const longSince = performance.now();
      await store.set('r:long', Buffer.from('l'), { ttlMs: 60_000, tagKeys: ['r:__ca:tag:t'] });
      const afterLong = await remaining('r:__ca:tag:t', 60_000, longSince);
      expect(afterLong.pttl).to.be.within(afterLong.from, afterLong.to);
      await store.set('r:middle', Buffer.from('m'), { ttlMs: 30_000, tagKeys: ['r:__ca:tag:t'] });
      const afterMiddle = await remaining('r:__ca:tag:t', 60_000, longSince);
      expect(afterMiddle.pttl, 'still the longest lifetime').to.be.within(afterMiddle.from, afterMiddle.to);
    });

    it('stores a lock as its token, readable by other instances', async () => {
      const store = new RedisStore(client);
      const since = performance.now();
      await store.acquireLock('r:__ca:lock:k', 'token-a', 5_000);
      expect(await client.get('r:__ca:lock:k')).to.equal('token-a');
      const { pttl, from, to } = await remaining('r:__ca:lock:k', 5_000, since);
      expect(pttl).to.be.within(from, to);
    });

    it('reads values written by another client as the same bytes', async () => {
      const store = new RedisStore(client);
      await client.set('r:raw', 'héllo');
      expect((await store.get('r:raw'))?.toString('utf8')).to.equal('héllo');
    });

    it('rejects when Redis refuses a command, leaving the decision to the resilient store', async () => {
      const store = new RedisStore(client);
      await client.sAdd('r:set', 'member');
      const error = await store.get('r:set').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(/WRONGTYPE/);
    });
  });
});

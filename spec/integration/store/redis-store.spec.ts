import { expect } from 'chai';
import { createClient } from 'redis';
import { RedisStore } from '../../../src/store/redis-store.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { describeStoreContract } from '../../support/store-contract.js';

const connect = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connect>>;

describe('RedisStore on a real Redis', () => {
  let server: TestRedis;
  let client: Client;

  before(async () => {
    server = await startRedis();
    client = await connect(server.url);
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  describeStoreContract(
    'RedisStore',
    () => new RedisStore(client),
    () => client.flushAll(),
  );

  describeStoreContract(
    'RedisStore with batches of 2',
    () => new RedisStore(client, { batchSize: 2 }),
    () => client.flushAll(),
  );

  describe('Redis specifics', () => {
    afterEach(async () => {
      await client.flushAll();
    });

    it('writes the entry with a PX lifetime that Redis itself enforces', async () => {
      const store = new RedisStore(client);
      await store.set('r:k', Buffer.from('v'), { ttlMs: 1_500 });
      expect(await client.pTTL('r:k')).to.be.within(1_000, 1_500);
    });

    it('gives a tag index the lifetime of its longest-lived entry', async () => {
      const store = new RedisStore(client);
      await store.set('r:short', Buffer.from('s'), { ttlMs: 1_000, tagKeys: ['r:__ca:tag:t'] });
      expect(await client.pTTL('r:__ca:tag:t')).to.be.within(1, 1_000);
      await store.set('r:long', Buffer.from('l'), { ttlMs: 60_000, tagKeys: ['r:__ca:tag:t'] });
      expect(await client.pTTL('r:__ca:tag:t')).to.be.within(59_000, 60_000);
      await store.set('r:middle', Buffer.from('m'), { ttlMs: 30_000, tagKeys: ['r:__ca:tag:t'] });
      expect(await client.pTTL('r:__ca:tag:t')).to.be.within(59_000, 60_000);
    });

    it('stores a lock as its token, readable by other instances', async () => {
      const store = new RedisStore(client);
      await store.acquireLock('r:__ca:lock:k', 'token-a', 5_000);
      expect(await client.get('r:__ca:lock:k')).to.equal('token-a');
      expect(await client.pTTL('r:__ca:lock:k')).to.be.within(4_000, 5_000);
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

import { expect } from 'chai';
import fc from 'fast-check';
import { createCache } from '../../../src/create-cache.js';
import { keySlot } from '../../../src/keys/key-slot.js';
import { RedisClusterStore } from '../../../src/store/redis-cluster-store.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { type ClusterClient, startRedisCluster, type TestRedisCluster } from '../../support/redis-cluster.js';
import { describeRedisStoreContract } from '../../support/redis-store-contract.js';
import { silentLogger } from '../../support/silent-logger.js';

const MINUTE_MS = 60_000;

interface MultiKeyCall {
  command: 'mGet' | 'unlink';
  keys: string[];
}

/**
 * The cluster client behind a proxy that records every MGET and UNLINK, including those sent
 * through a `withTypeMapping()` or `withCommandOptions()` view of it. node-redis may split a cross-slot command by itself;
 * recording what the store sends shows that the store never relies on it.
 */
function recordMultiKeyCommands(client: ClusterClient): { client: ClusterClient; calls: MultiKeyCall[] } {
  const calls: MultiKeyCall[] = [];
  const record = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        if (property === 'mGet' || property === 'unlink') {
          return (keys: string[]) => {
            calls.push({ command: property, keys: [...keys] });
            return value.call(object, keys);
          };
        }
        if (property === 'withTypeMapping' || property === 'withCommandOptions') {
          return (options: object) => record(value.call(object, options));
        }
        return value.bind(object);
      },
    });
  return { client: record(client), calls };
}

const slotsOf = (keys: readonly string[]) => new Set(keys.map((key) => keySlot(key)));

describe('RedisClusterStore on a real Redis Cluster (3 masters)', function () {
  this.timeout(30_000);
  let cluster: TestRedisCluster;
  let client: ClusterClient;

  /** Port of the master that serves `key`, as the client sees the topology. */
  const masterPortOf = (key: string) => client.slots[keySlot(key)]?.master.port;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    cluster = await startRedisCluster({ masters: 3 });
    client = await cluster.connect();
  });

  after(async () => {
    await cluster?.stop();
  });

  describeRedisStoreContract(
    'RedisClusterStore',
    (options) => new RedisClusterStore(client, options),
    () => cluster.flushAll(),
    false,
  );

  it("computes each key's slot as the servers do, braces and UTF-8 included (property, CLUSTER KEYSLOT)", async () => {
    const admin = cluster.nodes[0]?.admin;
    if (admin === undefined) throw new Error('no node');
    const samples = fc.sample(
      fc.string({ unit: fc.constantFrom('{', '}', 'a', 'b', ':', '/', '?', '*', 'é', '😀'), maxLength: 10 }),
      { numRuns: 300, seed: 20261202 },
    );
    for (const key of ['', 'foo{}{bar}', 'shop:{}x{y}', ...samples]) {
      expect(keySlot(key), JSON.stringify(key)).to.equal(await admin.clusterKeySlot(key));
    }
  });

  describe('Cluster specifics', () => {
    const keys = Array.from({ length: 30 }, (_, index) => `cs:item:${index}`);

    afterEach(async () => {
      await cluster.flushAll();
    });

    it('spreads the keys of these specs over every master (so that each spec below can fail)', () => {
      expect(new Set(keys.map(masterPortOf)).size).to.equal(3);
      expect(cluster.nodes.map((node) => node.port)).to.include.members([...new Set(keys.map(masterPortOf))]);
    });

    it('reads keys of many slots with one MGET per slot, in the order of the keys', async () => {
      const recorded = recordMultiKeyCommands(client);
      const store = new RedisClusterStore(recorded.client);
      for (const key of keys.slice(0, 20)) await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS });

      const values = await store.getMany([...keys, keys[3] as string]);

      expect(values.map((value) => value?.toString())).to.deep.equal([
        ...keys.map((key, index) => (index < 20 ? key : undefined)),
        keys[3],
      ]);
      const mGets = recorded.calls.filter((call) => call.command === 'mGet');
      expect(
        mGets.every((call) => slotsOf(call.keys).size === 1),
        'no MGET spans two slots',
      ).to.equal(true);
      expect(mGets).to.have.length(slotsOf(keys).size);
    });

    it('reads keys that share a hash tag with one MGET', async () => {
      const recorded = recordMultiKeyCommands(client);
      const store = new RedisClusterStore(recorded.client);
      const tagged = ['cs:{user:7}:profile', 'cs:{user:7}:orders', 'cs:{user:7}:cart'];
      await store.set('cs:{user:7}:orders', Buffer.from('3 orders'), { ttlMs: MINUTE_MS });

      const values = await store.getMany(tagged);

      expect(values.map((value) => value?.toString())).to.deep.equal([undefined, '3 orders', undefined]);
      expect(recorded.calls).to.deep.equal([{ command: 'mGet', keys: tagged }]);
    });

    it('deletes keys of many slots with UNLINKs that never span two slots, counting only those that existed', async () => {
      const recorded = recordMultiKeyCommands(client);
      const store = new RedisClusterStore(recorded.client, { batchSize: 2 });
      for (const key of keys.slice(0, 10)) await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS });

      expect(await store.delete(keys)).to.equal(10);

      const unlinks = recorded.calls.filter((call) => call.command === 'unlink');
      expect(unlinks.every((call) => slotsOf(call.keys).size === 1 && call.keys.length <= 2)).to.equal(true);
      expect(await client.exists(keys.slice(0, 10))).to.equal(0);
    });

    it('deletes the entries matching a pattern on every master, and nothing else', async () => {
      const store = new RedisClusterStore(client);
      for (const key of keys) await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS });
      await store.set('cs:other:1', Buffer.from('kept'), { ttlMs: MINUTE_MS });

      expect(await store.deleteMatching('cs:item:*')).to.equal(keys.length);

      expect(await store.getMany(keys)).to.deep.equal(keys.map(() => undefined));
      expect((await store.get('cs:other:1'))?.toString()).to.equal('kept');
    });

    it("reads a miss's lease in its lock's script only when a hash tag puts every key of the cache in one slot", async () => {
      expect(new RedisClusterStore(client).acquireLockAndGetWithLease).to.equal(undefined);
      expect(new RedisClusterStore(client, { namespace: '{cs}:__ca:' }).acquireLockAndGetWithLease).to.be.a(
        'function',
      );
      for (const [prefix, perMiss] of [
        ['cs:', ['get', 'lease', 'lock_acquire', 'set']],
        ['{cs}:', ['get', 'lock_acquire', 'set']],
      ] as const) {
        const cache = createCache({
          redis: client,
          prefix,
          registry: false,
          logger: silentLogger,
          redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
        });
        const operations: string[] = [];
        const refused: string[] = [];
        cache.events.on('store-operation', ({ operation }) => operations.push(operation));
        cache.events.on('write-refused', ({ reason }) => refused.push(reason));
        try {
          expect(await cache.get('item', async () => 'loaded')).to.equal('loaded');
          expect([...operations].sort(), prefix).to.deep.equal([...perMiss].sort());
          // The lease, however read, still refuses a value read before an invalidation.
          await cache.get('stale', async () => {
            await cache.invalidate('stale');
            return 'read before the invalidation';
          });
          expect(refused, prefix).to.deep.equal(['invalidated']);
          expect(await client.exists(`${prefix}stale`), prefix).to.equal(0);
        } finally {
          await cache.close();
        }
      }
    });

    it('walks the keys master after master, then ends; a cursor that names no master is refused', async () => {
      const store = new RedisClusterStore(client);
      for (const key of keys) await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS });
      const search = { pattern: 'cs:item:*', type: 'string', count: 1_000 } as const;
      const found: string[] = [];
      const masters = new Set<string>();
      let cursor = '0';
      do {
        const page = await store.scanKeys(cursor, search);
        found.push(...page.items);
        masters.add(page.cursor.split(':')[0] as string);
        cursor = page.cursor;
      } while (cursor !== '0');
      expect(found.sort()).to.deep.equal([...keys].sort());
      expect(masters, 'a step per master, the last one ending the walk').to.deep.equal(
        new Set(['1', '2', '0']),
      );
      for (const forged of ['3:0', 'x:0']) {
        const error = await store.scanKeys(forged, search).then(
          () => undefined,
          (rejected: unknown) => rejected,
        );
        expect(String(error), forged).to.include('names no master');
      }
    });

    it('invalidates a tag whose index set lives on another master than its entries', async () => {
      const store = new RedisClusterStore(client);
      const tagKey = 'cs:__ca:tag:catalog';
      const elsewhere = keys.filter((key) => masterPortOf(key) !== masterPortOf(tagKey));
      expect(elsewhere.length).to.be.greaterThan(5);
      for (const key of elsewhere)
        await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS, tagKeys: [tagKey] });
      expect(await client.sCard(tagKey)).to.equal(elsewhere.length);

      const deletion = await store.deleteTagged([tagKey]);

      expect(deletion.deleted).to.equal(elsewhere.length);
      expect([...deletion.keys].sort()).to.deep.equal([...elsewhere].sort());
      expect(await client.exists(elsewhere)).to.equal(0);
      expect(await client.exists(tagKey)).to.equal(0);
    });

    it("refuses a load's entry whose tag was indexed, then invalidated, before the entry was written", async () => {
      // On a Cluster a load's write goes in two steps: the tag's slot (check its stamp, index the entry),
      // then the entry's slot. A tag invalidation between the two finds the entry listed but absent;
      // it stamps the entry, so that the second step is refused.
      const store = new RedisClusterStore(client, { namespace: 'cs:__ca:' });
      const tagKey = 'cs:__ca:tag:catalog';
      const entryKey = keys.find((key) => masterPortOf(key) !== masterPortOf(tagKey)) as string;
      const lease = await store.readLease();
      await client.sAdd(tagKey, entryKey);

      await store.deleteTagged([tagKey]);

      expect(await store.set(entryKey, Buffer.from('v1'), { ttlMs: MINUTE_MS, lease })).to.equal(
        'invalidated',
      );
      expect(await client.exists(entryKey)).to.equal(0);
    });

    it('writes, indexes and invalidates keys whose braces Redis reads differently from cluster-key-slot', async () => {
      // Request URLs reach keys: `{}` first makes Redis hash the whole key, not the next braces.
      const store = new RedisClusterStore(client, { namespace: 'cs:__ca:' });
      const tagKey = 'cs:__ca:tag:odd';
      const odd = ['cs:{}x{y}', 'cs:{}cs:item:1}', 'cs:/{}a{b}', 'cs:item:1'];
      const lease = await store.readLease();
      for (const key of odd) {
        expect(
          await store.set(key, Buffer.from(key), { ttlMs: MINUTE_MS, tagKeys: [tagKey], lease }),
        ).to.equal('stored');
      }
      expect((await store.deleteTagged([tagKey])).deleted).to.equal(odd.length);
      expect(await store.getMany(odd)).to.deep.equal(odd.map(() => undefined));
    });

    it('stamps every slot on a pattern invalidation, so a load of a key not written yet cannot store after it', async () => {
      const store = new RedisClusterStore(client, { namespace: 'cs:__ca:' });
      const lease = await store.readLease();
      await store.deleteMatching('cs:item:*', 'cs:__ca:');
      const refused = await Promise.all(
        keys.map((key) => store.set(key, Buffer.from('v1'), { ttlMs: MINUTE_MS, lease })),
      );
      expect(new Set(refused)).to.deep.equal(new Set(['invalidated']));
      expect(new Set(keys.map(masterPortOf)).size, 'keys on every master').to.equal(3);
    });

    it('holds and releases locks on every master', async () => {
      const store = new RedisClusterStore(client);
      const lockKeys = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `cs:__ca:lock:${name}`);
      expect(new Set(lockKeys.map(masterPortOf)).size, 'locks on every master').to.equal(3);

      for (const key of lockKeys) expect(await store.acquireLock(key, 'mine', MINUTE_MS)).to.equal(true);
      for (const key of lockKeys) expect(await store.acquireLock(key, 'theirs', MINUTE_MS)).to.equal(false);
      for (const key of lockKeys) expect(await store.releaseLock(key, 'theirs')).to.equal(false);
      for (const key of lockKeys) expect(await store.releaseLock(key, 'mine')).to.equal(true);
      expect(await client.exists(lockKeys)).to.equal(0);
    });

    it('is what createCache builds for a cluster client: no multi-key command spans two slots', async () => {
      const recorded = recordMultiKeyCommands(client);
      const cache = createCache({
        redis: recorded.client,
        prefix: 'cs:',
        registry: false,
        logger: silentLogger,
        // Not about timeouts: a busy machine's slow reply must not turn a hit into a miss.
        redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
      });
      try {
        const ids = Array.from({ length: 12 }, (_, index) => `item:${index}`);
        const loaded = await cache.getMany(ids, async (missing) => missing.map((id) => ({ id })));
        expect(await cache.getMany(ids, async () => [])).to.deep.equal(loaded);
        expect(cache.stats().hits).to.equal(ids.length);
        expect(await cache.invalidatePattern('item:*')).to.equal(ids.length);

        expect(recorded.calls.filter((call) => call.command === 'mGet').length).to.be.greaterThan(1);
        expect(recorded.calls.every((call) => slotsOf(call.keys).size === 1)).to.equal(true);
      } finally {
        await cache.close();
      }
    });
  });
});

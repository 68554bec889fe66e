import { expect } from 'chai';
import sinon from 'sinon';
import type { EntryOptions } from '../../../src/engine/entry-options.js';
import { CacheOptionError } from '../../../src/errors.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';
import { entryWrites, makeCache, makeStubbedCache } from './make-cache.js';

/** Per-call options a caller could pass by mistake (from JavaScript, or through a cast). */
const badOptions: Array<[string, EntryOptions<unknown>, RegExp]> = [
  ['a negative ttl', { ttl: -1 }, /`ttl`/],
  ['a NaN ttl', { ttl: Number.NaN }, /`ttl`/],
  ['an infinite ttl', { ttl: Number.POSITIVE_INFINITY }, /`ttl`/],
  ['a string ttl', { ttl: '60' as unknown as number }, /`ttl`/],
  ['a negative staleTtl', { staleTtl: -5 }, /`staleTtl`/],
  ['tags that are not an array', { tags: 'user' as unknown as string[] }, /`tags`/],
  ['an empty tag', { tags: [''] }, /tag/],
  ['a tag that is not a string', { tags: [42 as unknown as string] }, /tag/],
  ['an empty group', { group: '' }, /`group`/],
  ['a group that is not a string', { group: 7 as unknown as string }, /`group`/],
];

describe('Cache per-call options and keys', () => {
  let chaos: ChaosStore;

  beforeEach(() => {
    chaos = new ChaosStore(new MemoryStore());
  });

  describe('validation before any work', () => {
    for (const [label, options, message] of badOptions) {
      it(`get rejects ${label} with a TypeError, before reading or loading`, async () => {
        const cache = makeCache({ store: chaos });
        const loader = sinon.stub().resolves('value');
        const error = await rejectionOf(cache.get('k', loader, options));
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.match(message);
        expect(loader.called).to.equal(false);
        expect(chaos.calls).to.deep.equal([]);
      });
    }

    it('set and getMany reject bad options the same way', async () => {
      const cache = makeCache({ store: chaos });
      const loader = sinon.stub().resolves(['value']);
      expect(await rejectionOf(cache.set('k', 'value', { ttl: -1 }))).to.be.instanceOf(TypeError);
      expect(await rejectionOf(cache.getMany(['k'], loader, { tags: [''] }))).to.be.instanceOf(TypeError);
      expect(loader.called).to.equal(false);
      expect(chaos.calls).to.deep.equal([]);
    });

    it('expire rejects a negative or non-numeric lifetime', async () => {
      const cache = makeCache({ store: chaos });
      expect(await rejectionOf(cache.expire('k', -1))).to.be.instanceOf(TypeError);
      expect(await rejectionOf(cache.expire('k', Number.NaN))).to.be.instanceOf(TypeError);
      expect(chaos.calls).to.deep.equal([]);
    });

    it('gives invalid-option errors the stable code E_INVALID_OPTION', async () => {
      const cache = makeCache({ store: chaos });
      const error = await rejectionOf(cache.get('k', () => 1, { ttl: -1 }));
      expect(error).to.be.instanceOf(CacheOptionError);
      expect((error as CacheOptionError).code).to.equal('E_INVALID_OPTION');
    });
  });

  describe('keys', () => {
    it("refuses keys in the reserved '__ca:' namespace, where tag indexes and locks live", async () => {
      const cache = makeCache({ store: chaos });
      const loader = sinon.stub().resolves('value');
      for (const attempt of [
        cache.get('__ca:tag:user', loader),
        cache.set('__ca:lock:k', 'value'),
        cache.invalidate('__ca:tag:user'),
        cache.ttl('__ca:x'),
        cache.expire('__ca:x', 10),
        cache.getMany(['ok', '__ca:x'], async () => ['a', 'b']),
      ]) {
        const error = await rejectionOf(attempt);
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.contain('__ca:');
      }
      expect(loader.called).to.equal(false);
      expect(chaos.calls).to.deep.equal([]);
    });

    it('allows the reserved marker anywhere but at the start of a key', async () => {
      const cache = makeCache({ store: chaos });
      expect(await cache.get('user:__ca:1', () => 'value')).to.equal('value');
    });

    it('refuses an empty key and a key that is not a string', async () => {
      const cache = makeCache({ store: chaos });
      expect(await rejectionOf(cache.get('', () => 1))).to.be.instanceOf(TypeError);
      expect(await rejectionOf(cache.get(42 as unknown as string, () => 1))).to.be.instanceOf(TypeError);
      expect(() => cache.entryKey('')).to.throw(TypeError);
    });

    it('maps a key to the prefix plus the key, and nothing else', () => {
      const cache = makeCache({ prefix: 'shop:' });
      expect(cache.entryKey('item:1')).to.equal('shop:item:1');
      expect(cache.prefix).to.equal('shop:');
    });
  });

  describe('ttl', () => {
    it('stores the entry for ttl plus staleTtl, the time it may still be served', async () => {
      const redis = createStubRedisClient();
      const cache = makeStubbedCache(redis);
      await cache.set('k', 'value', { ttl: 10, staleTtl: 50 });
      expect(entryWrites(redis)[0]?.args[2]).to.deep.equal({ expiration: { type: 'PX', value: 60_000 } });
    });

    it('does not store a value whose ttl function answers 0, but still returns it', async () => {
      const cache = makeCache({ store: chaos });
      const ttl = sinon.stub().returns(0);
      expect(await cache.get('k', () => ({ private: true }), { ttl })).to.deep.equal({ private: true });
      expect(ttl.calledOnceWithExactly({ private: true })).to.equal(true);
      expect(chaos.callsTo('set')).to.have.lengthOf(0);
    });

    it('does not store a value with a per-call ttl of 0', async () => {
      const cache = makeCache({ store: chaos });
      await cache.set('k', 'value', { ttl: 0 });
      expect(chaos.callsTo('set')).to.have.lengthOf(0);
    });

    it('uses the ttl a function computes from the value, and the cache ttl when it answers undefined', async () => {
      const redis = createStubRedisClient();
      const cache = makeStubbedCache(redis, { ttl: 60 });
      const ttl = (value: { seconds?: number }) => value.seconds;
      await cache.get('short', () => ({ seconds: 5 }), { ttl });
      await cache.get('default', () => ({}), { ttl });
      expect(entryWrites(redis).map((call) => call.args[2])).to.deep.equal([
        { expiration: { type: 'PX', value: 5_000 } },
        { expiration: { type: 'PX', value: 60_000 } },
      ]);
    });
  });

  describe('group', () => {
    /** The `group` of each load event of `cache` while `run` runs. */
    async function loadGroups(run: (cache: ReturnType<typeof makeCache>) => Promise<unknown>) {
      const cache = makeCache({ store: chaos });
      const groups: (string | undefined)[] = [];
      cache.events.on('load', ({ group }) => groups.push(group));
      await run(cache);
      return groups;
    }

    it('names the group of each load in its load event: a name, a function of the key, or none', async () => {
      const groups = await loadGroups(async (cache) => {
        await cache.get('user:1', () => 'ada', { group: 'users' });
        await cache.get('order:7', () => 'o', { group: (key) => key.split(':')[0] });
        await cache.get('plain', () => 'p');
        await cache.getMany(['user:2', 'user:3'], () => ['a', 'b'], { group: 'users' });
        await cache
          .get('failing', () => Promise.reject(new Error('down')), { group: 'reports' })
          .catch(() => 0);
      });
      expect(groups).to.deep.equal(['users', 'order', undefined, 'users', 'reports']);
    });

    it('loads without a group when the group function throws or names none', async () => {
      const groups = await loadGroups(async (cache) => {
        const throwing = () => {
          throw new Error('no group for you');
        };
        expect(await cache.get('a', () => 'v', { group: throwing })).to.equal('v');
        expect(await cache.get('b', () => 'v', { group: () => '' })).to.equal('v');
      });
      expect(groups).to.deep.equal([undefined, undefined]);
    });
  });

  describe('encoding', () => {
    it('returns a value the serializer cannot encode, reports the failure and stores nothing', async () => {
      const cache = makeCache({ store: chaos });
      const failures: string[] = [];
      cache.events.on('failure', ({ operation }) => failures.push(operation));
      expect(await cache.get('big', () => ({ id: 10n }))).to.deep.equal({ id: 10n });
      expect(failures).to.deep.equal(['encode']);
      expect(cache.stats().errors).to.equal(1);
      expect(chaos.callsTo('set')).to.have.lengthOf(0);
    });

    it('reads an entry written by another serializer as a miss, and overwrites it', async () => {
      const store = new MemoryStore();
      const msgpackCache = makeCache({ store, serializer: msgpackSerializer });
      const jsonCache = makeCache({ store });
      await msgpackCache.set('k', { from: 'msgpack' });

      const loader = sinon.stub().resolves({ from: 'json' });
      expect(await jsonCache.get('k', loader)).to.deep.equal({ from: 'json' });
      expect(loader.calledOnce).to.equal(true);
      expect(jsonCache.stats()).to.include({ misses: 1, errors: 1 });

      expect(await jsonCache.get('k', loader)).to.deep.equal({ from: 'json' });
      expect(loader.calledOnce).to.equal(true);
    });

    it('uses a per-call serializer for both writing and reading', async () => {
      const cache = makeCache({ store: chaos });
      await cache.set('bytes', { data: Buffer.from([1, 2, 3]) }, { serializer: msgpackSerializer });
      const read = (await cache.get('bytes', () => ({ data: Buffer.alloc(0) }), {
        serializer: msgpackSerializer,
      })) as { data: Uint8Array };
      expect([...read.data]).to.deep.equal([1, 2, 3]);
      expect(cache.stats().hits).to.equal(1);
    });
  });
});

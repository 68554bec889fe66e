import { expect } from 'chai';
import sinon from 'sinon';
import { decodeValue } from '../../../src/engine/entry-codec.js';
import { LoadLease } from '../../../src/engine/load-lease.js';
import { CacheError } from '../../../src/errors.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { createStubRedisClient, type StubRedisClient } from '../../support/stub-redis-client.js';
import { entryWrites, makeStubbedCache, storedEntry } from './make-cache.js';

const alice = { id: 1, name: 'Alice' };

/** The value of the entry that the cache wrote with `set`, decoded as the engine would. */
function writtenValue(redis: StubRedisClient, index = 0): unknown {
  const call = entryWrites(redis)[index];
  if (call === undefined) throw new Error(`no entry write #${index}`);
  return decodeValue(jsonSerializer, call.args[1]).value;
}

// The cache-aside basics, against a stubbed node-redis client.
describe('Cache over a stubbed Redis client', () => {
  let redis: StubRedisClient;

  beforeEach(() => {
    redis = createStubRedisClient();
  });

  describe('basic cache-aside logic', () => {
    it('returns a cached value without calling the loader, and counts a hit', async () => {
      redis.get.resolves(storedEntry(alice));
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub();

      expect(await cache.get('user:1', loader)).to.deep.equal(alice);

      expect(loader.called).to.equal(false);
      expect(cache.stats()).to.include({ hits: 1, misses: 0 });
      expect(redis.get.calledOnceWithExactly('test:user:1')).to.equal(true);
    });

    it('on a miss calls the loader once with the key, stores the value once, and counts a miss', async () => {
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub().resolves(alice);

      expect(await cache.get('user:1', loader)).to.deep.equal(alice);

      expect(cache.stats()).to.include({ hits: 0, misses: 1 });
      expect(
        loader.calledOnceWithExactly('user:1', { cause: 'miss', lease: sinon.match.instanceOf(LoadLease) }),
      ).to.equal(true);
      expect(entryWrites(redis)).to.have.lengthOf(1);
      expect(writtenValue(redis)).to.deep.equal(alice);
    });

    it('stores the entry under the configured prefix', async () => {
      const cache = makeStubbedCache(redis);
      await cache.get('user:1', () => ({ id: 1 }));
      expect(entryWrites(redis).map((call) => call.args[0])).to.deep.equal(['test:user:1']);
    });

    it('writes the cache ttl as the Redis lifetime by default', async () => {
      const cache = makeStubbedCache(redis);
      await cache.get('user:1', () => ({ id: 1 }));
      expect(entryWrites(redis)[0]?.args[2]).to.deep.equal({ expiration: { type: 'PX', value: 60_000 } });
    });

    it('applies a per-call ttl to the stored value', async () => {
      const cache = makeStubbedCache(redis);
      await cache.get('user:1', () => ({ id: 1 }), { ttl: 120 });
      expect(entryWrites(redis)).to.have.lengthOf(1);
      expect(entryWrites(redis)[0]?.args[2]).to.deep.equal({ expiration: { type: 'PX', value: 120_000 } });
    });

    it('returns null from the loader without storing it', async () => {
      const cache = makeStubbedCache(redis);
      expect(await cache.get('user:999', () => null)).to.equal(null);
      expect(entryWrites(redis)).to.have.lengthOf(0);
    });

    it('returns undefined from the loader without storing it', async () => {
      const cache = makeStubbedCache(redis);
      expect(await cache.get('user:999', () => undefined)).to.equal(undefined);
      expect(entryWrites(redis)).to.have.lengthOf(0);
    });
  });

  describe('invalidation', () => {
    it('invalidate unlinks the prefixed key and resolves true when it existed', async () => {
      redis.unlink.resolves(1);
      const cache = makeStubbedCache(redis);
      expect(await cache.invalidate('user:1')).to.equal(true);
      expect(redis.unlink.calledOnceWithExactly(['test:user:1'])).to.equal(true);
    });

    it('invalidate resolves false for a key that does not exist', async () => {
      redis.unlink.resolves(0);
      const cache = makeStubbedCache(redis);
      expect(await cache.invalidate('user:999')).to.equal(false);
    });

    it('invalidatePattern scans the prefixed pattern page by page and unlinks every match', async () => {
      redis.scan.onFirstCall().resolves({ cursor: '42', keys: ['test:user:1', 'test:user:2'] });
      redis.scan.onSecondCall().resolves({ cursor: '0', keys: ['test:user:3'] });
      redis.unlink.callsFake(async (keys) => keys.length);
      const cache = makeStubbedCache(redis);

      expect(await cache.invalidatePattern('user:*')).to.equal(3);

      expect(redis.scan.getCalls().map((call) => call.args[0])).to.deep.equal(['0', '42']);
      expect(redis.scan.firstCall.args[1]).to.include({ MATCH: 'test:user:*' });
      expect(redis.unlink.getCalls().map((call) => call.args[0])).to.deep.equal([
        ['test:user:1', 'test:user:2'],
        ['test:user:3'],
      ]);
    });

    it('invalidatePattern escapes glob characters of the prefix, so it stays inside it', async () => {
      const cache = makeStubbedCache(redis, { prefix: 'a*[1]:' });
      await cache.invalidatePattern('user:*');
      expect(redis.scan.firstCall.args[1]).to.include({ MATCH: 'a\\*\\[1\\]:user:*' });
    });

    it('invalidatePattern asks Redis for entries only, never for tag index sets', async () => {
      const cache = makeStubbedCache(redis);
      await cache.invalidatePattern('*:1');
      expect(redis.scan.firstCall.args[1]).to.include({ MATCH: 'test:*:1', TYPE: 'string' });
    });
  });

  describe('error handling', () => {
    it('falls back to the loader when Redis fails on get', async () => {
      redis.get.rejects(new Error('ECONNREFUSED'));
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub().resolves({ id: 1 });

      expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1 });

      expect(loader.calledOnce).to.equal(true);
      expect(cache.stats().errors).to.be.at.least(1);
    });

    it('still returns the loaded value when Redis fails on set', async () => {
      redis.set.rejects(new Error('ECONNRESET'));
      const cache = makeStubbedCache(redis);
      expect(await cache.get('user:1', () => ({ id: 1 }))).to.deep.equal({ id: 1 });
      expect(cache.stats().errors).to.be.at.least(1);
    });

    it('treats bytes that are not a cache entry ("invalid json") as a miss, counts an error and overwrites them', async () => {
      redis.get.resolves(Buffer.from('invalid json'));
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub().resolves({ id: 1 });

      expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1 });

      expect(loader.calledOnce).to.equal(true);
      expect(cache.stats()).to.include({ errors: 1, misses: 1, hits: 0 });
      expect(writtenValue(redis)).to.deep.equal({ id: 1 });
    });

    it('treats an entry whose JSON payload is corrupt as a miss and counts an error', async () => {
      const truncatedJson = { ...jsonSerializer, serialize: () => Buffer.from('{"id": 1') };
      const entry = storedEntry('ignored', { serializer: truncatedJson });
      redis.get.resolves(entry);
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub().resolves({ id: 1 });

      expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1 });
      expect(loader.calledOnce).to.equal(true);
      expect(cache.stats().errors).to.equal(1);
    });
  });

  describe('TTL management', () => {
    it('ttl() returns the remaining seconds of the prefixed key', async () => {
      redis.ttl.resolves(45);
      const cache = makeStubbedCache(redis);
      expect(await cache.ttl('user:1')).to.equal(45);
      expect(redis.ttl.calledOnceWithExactly('test:user:1')).to.equal(true);
    });

    it('expire() sets a new lifetime on an existing key and resolves true', async () => {
      redis.expire.resolves(1);
      const cache = makeStubbedCache(redis);
      expect(await cache.expire('user:1', 120)).to.equal(true);
      expect(redis.expire.calledOnceWithExactly('test:user:1', 120)).to.equal(true);
    });

    it('expire() again refreshes the lifetime and resolves true', async () => {
      redis.expire.resolves(1);
      const cache = makeStubbedCache(redis);
      await cache.expire('user:1', 120);
      expect(await cache.expire('user:1', 300)).to.equal(true);
      expect(redis.expire.secondCall.args).to.deep.equal(['test:user:1', 300]);
    });

    it('expire() resolves false for a key that does not exist', async () => {
      redis.expire.resolves(0);
      const cache = makeStubbedCache(redis);
      expect(await cache.expire('user:999', 120)).to.equal(false);
    });

    it('ttl() rejects with a coded error when Redis fails, instead of inventing an answer', async () => {
      redis.ttl.rejects(new Error('ECONNREFUSED'));
      const cache = makeStubbedCache(redis);
      const error = await rejectionOf(cache.ttl('user:1'));
      expect(error).to.be.instanceOf(CacheError);
      expect((error as CacheError).code).to.equal('E_STORE_FAILED');
    });
  });

  describe('serialization through the cache', () => {
    it('stores a JSON value that reads back equal', async () => {
      const original = { id: 1, name: 'Alice', tags: ['admin', 'user'] };
      const cache = makeStubbedCache(redis);
      await cache.get('user:1', () => original);
      redis.get.resolves(entryWrites(redis)[0]?.args[1] ?? null);
      expect(await cache.get('user:1', () => 'not used')).to.deep.equal(original);
    });

    it('keeps nested objects intact', async () => {
      const original = { user: { id: 1, name: 'Alice' }, posts: [{ id: 1, title: 'Post 1' }] };
      const cache = makeStubbedCache(redis);
      await cache.get('feed:1', () => original);
      expect(writtenValue(redis)).to.deep.equal(original);
    });
  });

  describe('edge cases', () => {
    for (const [label, value] of [
      ['an empty string', ''],
      ['zero', 0],
      ['false', false],
    ] as const) {
      it(`caches ${label} (not treated as null)`, async () => {
        const cache = makeStubbedCache(redis);
        expect(await cache.get('key:1', () => value)).to.equal(value);
        expect(entryWrites(redis)).to.have.lengthOf(1);
        expect(writtenValue(redis)).to.equal(value);
      });

      it(`serves ${label} from the cache as a hit`, async () => {
        redis.get.resolves(storedEntry(value));
        const cache = makeStubbedCache(redis);
        const loader = sinon.stub().resolves('not used');
        expect(await cache.get('key:1', loader)).to.equal(value);
        expect(loader.called).to.equal(false);
      });
    }

    it('caches a 1 MB value and returns it exactly', async () => {
      const large = { data: 'x'.repeat(1_000_000) };
      const cache = makeStubbedCache(redis);
      expect(await cache.get('key:1', () => large)).to.deep.equal(large);
      expect(entryWrites(redis)).to.have.lengthOf(1);
      expect(writtenValue(redis)).to.deep.equal(large);
    });
  });

  describe('hit ratio', () => {
    it('is 0.8 after 80 hits and 20 misses', async () => {
      const hot = storedEntry({ hot: true });
      redis.get.callsFake(async (key) => (key.startsWith('test:hot:') ? hot : null));
      const cache = makeStubbedCache(redis);
      for (let index = 0; index < 80; index++) await cache.get(`hot:${index}`, () => 'unused');
      for (let index = 0; index < 20; index++) await cache.get(`cold:${index}`, () => 'loaded');
      expect(cache.stats()).to.include({ hits: 80, misses: 20, hitRatio: 0.8 });
    });

    it('is 0 before the first lookup', () => {
      expect(makeStubbedCache(redis).stats().hitRatio).to.equal(0);
    });
  });

  // Every method of the cache is async, and the loader may be sync or async.
  describe('async loaders', () => {
    it('serves a hit without awaiting the async loader', async () => {
      redis.get.resolves(storedEntry(alice));
      const cache = makeStubbedCache(redis);
      const loader = sinon.stub().callsFake(async () => alice);
      expect(await cache.get('user:1', loader)).to.deep.equal(alice);
      expect(cache.stats()).to.include({ hits: 1, misses: 0 });
      expect(loader.called).to.equal(false);
    });

    it('awaits an async loader on a miss and stores what it resolved to', async () => {
      const cache = makeStubbedCache(redis);
      const loader = async (key: string) => {
        await Promise.resolve();
        return { id: 1, key };
      };
      expect(await cache.get('user:1', loader)).to.deep.equal({ id: 1, key: 'user:1' });
      expect(cache.stats()).to.include({ hits: 0, misses: 1 });
      expect(writtenValue(redis)).to.deep.equal({ id: 1, key: 'user:1' });
    });

    it('stores the value of a sync loader exactly like that of an async one', async () => {
      const cache = makeStubbedCache(redis);
      await cache.get('sync', () => alice);
      await cache.get('async', async () => alice);
      expect(writtenValue(redis, 0)).to.deep.equal(writtenValue(redis, 1));
    });

    it('rejects with the loader error, and stores nothing, when an async loader rejects', async () => {
      const cache = makeStubbedCache(redis);
      const failure = new Error('database down');
      const error = await rejectionOf(
        cache.get('user:1', async () => {
          throw failure;
        }),
      );
      expect(error).to.equal(failure);
      expect(entryWrites(redis)).to.have.lengthOf(0);
      expect(cache.stats()).to.include({ loads: 1, loadErrors: 1 });
    });

    it('rejects with the loader error when a sync loader throws', async () => {
      const cache = makeStubbedCache(redis);
      const failure = new Error('bad input');
      const error = await rejectionOf(
        cache.get('user:1', () => {
          throw failure;
        }),
      );
      expect(error).to.equal(failure);
    });

    it('falls back to an async loader when Redis fails', async () => {
      redis.get.rejects(new Error('connection lost'));
      const cache = makeStubbedCache(redis);
      expect(await cache.get('user:1', async () => ({ id: 1 }))).to.deep.equal({ id: 1 });
    });
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';
import { entryWrites, makeCache, makeStubbedCache } from './make-cache.js';

describe('Cache.getMany', () => {
  let chaos: ChaosStore;

  beforeEach(() => {
    chaos = new ChaosStore(new MemoryStore());
  });

  it('reads every key in one store call and loads only the misses, in one loader call, in key order', async () => {
    const cache = makeCache({ store: chaos });
    await cache.set('b', 'B (cached)');
    await cache.set('d', 'D (cached)');
    chaos.calls.length = 0;
    const loader = sinon
      .stub()
      .callsFake(async (keys: string[]) => keys.map((key) => `${key.toUpperCase()} (loaded)`));

    const values = await cache.getMany(['a', 'b', 'c', 'd'], loader);

    expect(values).to.deep.equal(['A (loaded)', 'B (cached)', 'C (loaded)', 'D (cached)']);
    expect(loader.calledOnceWithExactly(['a', 'c'])).to.equal(true);
    expect(chaos.callsTo('getMany').map((call) => call.args[0])).to.deep.equal([
      ['test:a', 'test:b', 'test:c', 'test:d'],
    ]);
    expect(chaos.callsTo('get')).to.have.lengthOf(0);
    expect(cache.stats()).to.include({ hits: 2, misses: 2, loads: 1 });
  });

  it('stores what it loaded, so the next getMany is all hits and calls no loader', async () => {
    const cache = makeCache({ store: chaos });
    await cache.getMany(['a', 'b'], async (keys) => keys.map((key) => key.repeat(2)));
    const loader = sinon.stub().resolves([]);
    expect(await cache.getMany(['b', 'a'], loader)).to.deep.equal(['bb', 'aa']);
    expect(loader.called).to.equal(false);
  });

  it('applies the per-call ttl to every stored entry', async () => {
    const redis = createStubRedisClient();
    const cache = makeStubbedCache(redis);
    await cache.getMany(['a', 'b'], () => ['A', 'B'], { ttl: 30 });
    expect(redis.mGet.calledOnceWithExactly(['test:a', 'test:b'])).to.equal(true);
    expect(entryWrites(redis).map((call) => [call.args[0], call.args[2]])).to.deep.equal([
      ['test:a', { expiration: { type: 'PX', value: 30_000 } }],
      ['test:b', { expiration: { type: 'PX', value: 30_000 } }],
    ]);
  });

  it('returns null and undefined from the loader without storing them', async () => {
    const cache = makeCache({ store: chaos });
    expect(await cache.getMany(['a', 'b', 'c'], () => [null, 'B', undefined])).to.deep.equal([
      null,
      'B',
      undefined,
    ]);
    expect(chaos.callsTo('set').map((call) => call.args[0])).to.deep.equal(['test:b']);
  });

  it('rejects with a TypeError when the loader returns the wrong number of values', async () => {
    const cache = makeCache({ store: chaos });
    const error = await rejectionOf(cache.getMany(['a', 'b', 'c'], async () => ['only one']));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.contain('3 values');
    expect(chaos.callsTo('set')).to.have.lengthOf(0);
  });

  it('rejects with a TypeError when the loader does not return an array', async () => {
    const cache = makeCache({ store: chaos });
    const notAnArray = async () => ({ a: 'A' }) as unknown as string[];
    expect(await rejectionOf(cache.getMany(['a'], notAnArray))).to.be.instanceOf(TypeError);
  });

  it('passes a loader failure on to the caller', async () => {
    const cache = makeCache({ store: chaos });
    const failure = new Error('database down');
    expect(await rejectionOf(cache.getMany(['a'], () => Promise.reject(failure)))).to.equal(failure);
    expect(cache.stats()).to.include({ loads: 1, loadErrors: 1 });
  });

  it('answers an empty key list without touching the store or the loader', async () => {
    const cache = makeCache({ store: chaos });
    const loader = sinon.stub().resolves([]);
    expect(await cache.getMany([], loader)).to.deep.equal([]);
    expect(loader.called).to.equal(false);
    expect(chaos.calls).to.deep.equal([]);
  });

  it('loads every key when the store fails, and still answers', async () => {
    const cache = makeCache({ store: chaos });
    await cache.set('a', 'cached');
    chaos.alwaysThrow();
    expect(await cache.getMany(['a', 'b'], async (keys) => keys.map((key) => `${key} loaded`))).to.deep.equal(
      ['a loaded', 'b loaded'],
    );
    expect(cache.stats().errors).to.be.at.least(1);
  });

  it('reloads an entry that can no longer be decoded', async () => {
    const store = new MemoryStore();
    await store.set('test:a', Buffer.from('garbage'), { ttlMs: 60_000 });
    const cache = makeCache({ store });
    expect(await cache.getMany(['a'], () => ['fresh'])).to.deep.equal(['fresh']);
    expect(cache.stats()).to.include({ misses: 1, errors: 1 });
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { encodeValue } from '../../../src/engine/entry-codec.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { createStubRedisClient, type StubRedisClient } from '../../support/stub-redis-client.js';
import { makeStubbedCache, storedEntry } from './make-cache.js';

/** A loader that answers `value` after `ms` milliseconds of (fake) time. */
function slowLoader<T>(ms: number, value: T): () => Promise<T> {
  return () => new Promise((resolve) => setTimeout(resolve, ms, value));
}

describe('Cache.stats()', () => {
  let clock: sinon.SinonFakeTimers;
  let redis: StubRedisClient;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    redis = createStubRedisClient();
  });

  afterEach(() => {
    clock.restore();
  });

  it('starts with every counter at 0', () => {
    expect(makeStubbedCache(redis).stats()).to.include({
      hits: 0,
      misses: 0,
      stale: 0,
      errors: 0,
      loads: 0,
      loadErrors: 0,
      coalesced: 0,
      hitRatio: 0,
      avgLoadMs: 0,
    });
  });

  it('counts loads and averages their duration in milliseconds', async () => {
    const cache = makeStubbedCache(redis);
    const first = cache.get('a', slowLoader(40, 'A'));
    await clock.tickAsync(40);
    await first;
    const second = cache.get('b', slowLoader(20, 'B'));
    await clock.tickAsync(20);
    await second;
    expect(cache.stats()).to.include({ loads: 2, misses: 2, avgLoadMs: 30 });
  });

  it('counts failed loads among the loads', async () => {
    const cache = makeStubbedCache(redis);
    await cache.get('a', () => 'A');
    await rejectionOf(cache.get('b', () => Promise.reject(new Error('down'))));
    expect(cache.stats()).to.include({ loads: 2, loadErrors: 1 });
  });

  it('counts callers that shared another caller’s load as coalesced', async () => {
    const cache = makeStubbedCache(redis);
    const loader = sinon.spy(slowLoader(50, 'D'));
    const lookups = [cache.lookup('d', loader), cache.lookup('d', loader), cache.lookup('d', loader)];
    await clock.tickAsync(50);
    const outcomes = await Promise.all(lookups);
    expect(outcomes.map((outcome) => outcome.coalesced)).to.deep.equal([false, true, true]);
    expect(loader.callCount).to.equal(1);
    expect(cache.stats()).to.include({ misses: 3, loads: 1, coalesced: 2 });
  });

  it('counts stale serves apart, as non-hits in the hit ratio', async () => {
    const now = Date.now();
    const stale = encodeValue(jsonSerializer, {
      value: 'old',
      createdAtMs: now - 90_000,
      freshUntilMs: now - 30_000,
      staleUntilMs: now + 30_000,
    });
    redis.get.withArgs('test:stale').resolves(stale);
    redis.get.withArgs('test:fresh').resolves(storedEntry('fresh'));
    const cache = makeStubbedCache(redis);
    expect(await cache.get('stale', () => 'new')).to.equal('old');
    expect(await cache.get('fresh', () => 'new')).to.equal('fresh');
    await cache.close();
    expect(cache.stats()).to.include({ hits: 1, stale: 1, misses: 0, hitRatio: 0.5 });
  });

  it('counts absorbed store and decode failures as errors', async () => {
    redis.get.withArgs('test:corrupt').resolves(Buffer.from('not an entry'));
    redis.get.withArgs('test:down').rejects(new Error('ECONNRESET'));
    const cache = makeStubbedCache(redis);
    await cache.get('corrupt', () => 'A');
    await cache.get('down', () => 'B');
    expect(cache.stats().errors).to.equal(2);
  });

  it('returns a snapshot that later lookups do not change', async () => {
    const cache = makeStubbedCache(redis);
    const before = cache.stats();
    await cache.get('a', () => 'A');
    expect(before.misses).to.equal(0);
    expect(cache.stats().misses).to.equal(1);
  });
});

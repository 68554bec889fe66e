import { expect } from 'chai';
import sinon from 'sinon';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { deferred } from '../../support/deferred.js';
import { makeCache } from './make-cache.js';

describe('Cache lookups and lifecycle', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    // Freshness follows Date.now(); timers stay real.
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
  });

  afterEach(() => {
    clock.restore();
  });

  it('says how a lookup was answered, when a served value was loaded and until when it is fresh', async () => {
    const cache = makeCache({ ttl: 60 });
    const loadedAt = Date.now();
    expect(await cache.lookup('k', () => 'v')).to.deep.equal({
      value: 'v',
      result: 'miss',
      coalesced: false,
    });
    clock.tick(5_000);
    expect(await cache.lookup('k', () => 'unused')).to.deep.equal({
      value: 'v',
      result: 'hit',
      createdAtMs: loadedAt,
      freshUntilMs: loadedAt + 60_000,
      coalesced: false,
    });
  });

  it('answers a stale lookup at once with the stale value, and runs one refresh for many lookups', async () => {
    const cache = makeCache({ ttl: 1, staleTtl: 60 });
    await cache.set('k', 'old');
    clock.tick(1_500);
    const refresh = deferred<string>();
    const loader = sinon.stub().returns(refresh.promise);

    const outcomes = await Promise.all([cache.lookup('k', loader), cache.lookup('k', loader)]);
    expect(outcomes.map(({ value, result }) => [value, result])).to.deep.equal([
      ['old', 'stale'],
      ['old', 'stale'],
    ]);

    refresh.resolve('new');
    await cache.close();
    expect(loader.callCount).to.equal(1);
  });

  it('close() waits for background refreshes, so their results are stored before it resolves', async () => {
    const store = new MemoryStore();
    const cache = makeCache({ store, ttl: 1, staleTtl: 60 });
    await cache.set('k', 'old');
    clock.tick(1_500);
    const refresh = deferred<string>();
    await cache.get('k', () => refresh.promise);

    let closed = false;
    const closing = cache.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).to.equal(false);

    refresh.resolve('new');
    await closing;
    const reader = makeCache({ store, ttl: 1, staleTtl: 60 });
    expect(await reader.lookup('k', () => 'unused')).to.include({ value: 'new', result: 'hit' });
  });

  it('close() detaches every observer of the cache events', async () => {
    const cache = makeCache();
    cache.events.on('lookup', () => undefined);
    await cache.close();
    expect(cache.events.eventNames()).to.deep.equal([]);
  });

  it('close() leaves the store usable by other caches', async () => {
    const store = new MemoryStore();
    const first = makeCache({ store });
    await first.set('k', 'v');
    await first.close();
    expect(await makeCache({ store }).get('k', () => 'reloaded')).to.equal('v');
  });
});

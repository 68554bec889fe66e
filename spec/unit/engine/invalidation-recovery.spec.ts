// An invalidation that cannot reach the store is queued and replayed once the store answers; until
// then the instance serves nothing the queued invalidations may cover (auto-recovery, issue 17).
import { expect } from 'chai';
import sinon from 'sinon';
import type { Cache } from '../../../src/engine/cache.js';
import { CacheError } from '../../../src/errors.js';
import type { CacheEventMap } from '../../../src/events.js';
import type { CacheOptions } from '../../../src/options.js';
import { ChaosStore, type StoreMethod } from '../../support/chaos-store.js';
import { deferred } from '../../support/deferred.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

const TIER = { maxEntries: 100, maxBytes: 1_000_000, ttlMs: 60_000 };
const REPLAY_INTERVAL_MS = 1000;
/** One attempt, no breaker: each failure is one store call, and no timer but the queue's runs. */
const QUICK_FAILURE: Partial<CacheOptions> = { invalidationAttempts: 1, circuitBreakerThreshold: 0 };

/** The three invalidations, by tag `t`, key `item:1` and pattern `item:*`: each covers `item:1`. */
const INVALIDATIONS = {
  invalidate: (cache: Cache, options?: { queueOnFailure: boolean }) =>
    options === undefined ? cache.invalidate('item:1') : cache.invalidate('item:1', options),
  invalidateTags: (cache: Cache, options?: { queueOnFailure: boolean }) =>
    options === undefined ? cache.invalidateTags(['t']) : cache.invalidateTags(['t'], options),
  invalidatePattern: (cache: Cache, options?: { queueOnFailure: boolean }) =>
    options === undefined ? cache.invalidatePattern('item:*') : cache.invalidatePattern('item:*', options),
};
type InvalidationName = keyof typeof INVALIDATIONS;
const NAMES = Object.keys(INVALIDATIONS) as InvalidationName[];

/** Calls that read from, write to or lock in the store: none may reach it while anything is queued. */
const READS_AND_WRITES: readonly StoreMethod[] = [
  'get',
  'getMany',
  'set',
  'renew',
  'readLease',
  'acquireLock',
  'acquireLockAndGet',
];

describe('Invalidations that cannot reach the store (auto-recovery)', () => {
  let clock: sinon.SinonFakeTimers;
  let store: ChaosStore;
  const caches: Cache[] = [];

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    store = new ChaosStore();
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    clock.restore();
  });

  function cacheOver(options: Partial<CacheOptions> = {}): Cache {
    const cache = makeCache({
      store,
      memoryTier: TIER,
      invalidationQueue: { replayIntervalMs: REPLAY_INTERVAL_MS },
      ...QUICK_FAILURE,
      ...options,
    });
    caches.push(cache);
    return cache;
  }

  /** `item:1` (tag `t`) and `other` (no tag) at version 1, in the store and in the cache's tier. */
  async function cachedVersionOne(cache: Cache): Promise<void> {
    expect(await cache.get('item:1', async () => 'v1', { tags: ['t'] })).to.equal('v1');
    expect(await cache.get('other', async () => 'v1')).to.equal('v1');
    expect(cache.stats().memoryEntries).to.equal(2);
  }

  /** The calls that reached the store since `from` (an index into its recorded calls), by method. */
  function callsSince(from: number): StoreMethod[] {
    return store.calls.slice(from).map((call) => call.method);
  }

  for (const name of NAMES) {
    describe(name, () => {
      it('rejects with E_INVALIDATION_FAILED saying it will be replayed, the store failure as its cause', async () => {
        const cache = cacheOver();
        store.alwaysThrow(new Error('ECONNREFUSED'));
        const error = await rejectionOf(INVALIDATIONS[name](cache));
        expect(error).to.be.instanceOf(CacheError).with.property('code', 'E_INVALIDATION_FAILED');
        expect((error as Error).message).to.match(/ECONNREFUSED.*queued: it will be replayed/);
        expect(((error as Error).cause as Error).cause).to.have.property('message', 'ECONNREFUSED');
        expect(cache.stats().queuedInvalidations).to.equal(1);
      });

      it("resolves to 'queued' with { queueOnFailure: true }", async () => {
        const cache = cacheOver();
        store.alwaysThrow(new Error('ECONNREFUSED'));
        expect(await INVALIDATIONS[name](cache, { queueOnFailure: true })).to.equal('queued');
      });

      it('serves nothing the store holds until the replay, then the store no longer holds the old entry', async () => {
        const cache = cacheOver();
        await cachedVersionOne(cache);
        store.alwaysThrow(new Error('ECONNREFUSED'));
        await rejectionOf(INVALIDATIONS[name](cache));
        // Redis answers again; the timer has not replayed the invalidation yet.
        store.heal();
        const from = store.calls.length;
        expect(await cache.get('item:1', async () => 'v2', { tags: ['t'] })).to.equal('v2');
        expect(await cache.getMany(['item:1'], async () => ['v2'])).to.deep.equal(['v2']);
        expect(callsSince(from).filter((method) => READS_AND_WRITES.includes(method))).to.deep.equal([]);
        expect(await store.inner.get('test:item:1'), 'the store still holds version 1').to.not.equal(
          undefined,
        );

        await clock.tickAsync(REPLAY_INTERVAL_MS);
        expect(cache.stats().queuedInvalidations).to.equal(0);
        expect(await store.inner.get('test:item:1'), 'replayed: version 1 is gone').to.equal(undefined);
        expect(await cache.get('item:1', async () => 'v3', { tags: ['t'] })).to.equal('v3');
        expect(await cache.get('item:1', async () => 'v4')).to.equal('v3');
      });
    });
  }

  it("drops this instance's copy of an invalidated key or pattern at once, and keeps its other copies", async () => {
    for (const name of ['invalidate', 'invalidatePattern'] as const) {
      const cache = cacheOver();
      await cachedVersionOne(cache);
      store.alwaysThrow(new Error('ECONNREFUSED'));
      await rejectionOf(INVALIDATIONS[name](cache));
      expect(await cache.get('item:1', async () => 'v2'), name).to.equal('v2');
      expect(await cache.get('other', async () => 'v2'), `${name}: other is still held`).to.equal('v1');
      store.heal();
    }
  });

  it('drops the whole tier when a tag invalidation fails: which entries a tag lists, only the store knows', async () => {
    const cache = cacheOver();
    await cachedVersionOne(cache);
    store.alwaysThrow(new Error('ECONNREFUSED'));
    await rejectionOf(cache.invalidateTags(['t']));
    expect(cache.stats().memoryEntries).to.equal(0);
    expect(await cache.get('item:1', async () => 'v2')).to.equal('v2');
  });

  it('stamps what it replays: a load that began before the outage cannot store its value after the replay', async () => {
    const cache = cacheOver();
    await cachedVersionOne(cache);
    await clock.tickAsync(61_000);
    const refused: CacheEventMap['write-refused'][0][] = [];
    cache.events.on('write-refused', (event) => refused.push(event));
    // A load of the (now expired) entry reads its lease, then its source: version 1, soon outdated.
    const source = deferred<string>();
    const loading = cache.get('item:1', () => source.promise, { tags: ['t'] });
    await clock.tickAsync(0);
    store.alwaysThrow(new Error('ECONNREFUSED'));
    await rejectionOf(cache.invalidateTags(['t']));
    store.heal();
    await clock.tickAsync(REPLAY_INTERVAL_MS);
    expect(cache.stats().queuedInvalidations).to.equal(0);

    source.resolve('v1, read before the invalidation');
    expect(await loading).to.equal('v1, read before the invalidation');
    expect(refused.map(({ reason }) => reason)).to.deep.equal(['invalidated']);
    expect(await cache.get('item:1', async () => 'v2')).to.equal('v2');
  });

  it('replays in the order the invalidations failed, and keeps what is left when the store fails again', async () => {
    const cache = cacheOver();
    store.alwaysThrow(new Error('ECONNREFUSED'));
    for (const name of NAMES) await rejectionOf(INVALIDATIONS[name](cache));
    expect(cache.stats().queuedInvalidations).to.equal(3);
    const from = store.calls.length;
    store.heal().failNext(1, new Error('ECONNREFUSED'), { only: ['deleteTagged'] });
    await clock.tickAsync(REPLAY_INTERVAL_MS);
    expect(cache.stats().queuedInvalidations).to.equal(2);
    await clock.tickAsync(REPLAY_INTERVAL_MS);
    expect(cache.stats().queuedInvalidations).to.equal(0);
    expect(callsSince(from)).to.deep.equal(['delete', 'deleteTagged', 'deleteTagged', 'deleteMatching']);
  });

  it('replays at once, without waiting for the timer, when another invalidation gets through', async () => {
    const cache = cacheOver();
    store.alwaysThrow(new Error('ECONNREFUSED'));
    await rejectionOf(cache.invalidateTags(['t']));
    store.heal();
    await cache.invalidate('other');
    await clock.tickAsync(0);
    expect(cache.stats().queuedInvalidations).to.equal(0);
  });

  it('refuses to queue past maxSize: that call rejects even with queueOnFailure, and its invalidation is lost', async () => {
    const cache = cacheOver({ invalidationQueue: { maxSize: 1, replayIntervalMs: REPLAY_INTERVAL_MS } });
    await cachedVersionOne(cache);
    const dropped: CacheEventMap['invalidation-dropped'][0][] = [];
    cache.events.on('invalidation-dropped', (event) => dropped.push(event));
    store.alwaysThrow(new Error('ECONNREFUSED'));
    expect(await cache.invalidateTags(['t'], { queueOnFailure: true })).to.equal('queued');
    const error = await rejectionOf(cache.invalidate('other', { queueOnFailure: true }));
    expect(error).to.have.property('code', 'E_INVALIDATION_FAILED');
    expect((error as Error).message).to.match(/not queued: the invalidation queue is full/);
    expect(dropped).to.deep.equal([{ kind: 'key', reason: 'overflow', queueSize: 1 }]);

    store.heal();
    await clock.tickAsync(REPLAY_INTERVAL_MS);
    expect(await cache.get('item:1', async () => 'v2')).to.equal('v2');
    // The lost one: the store still holds version 1 of `other`, and serves it again.
    expect(await cache.get('other', async () => 'v2')).to.equal('v1');
  });

  it('with invalidationQueue: false, reports the failure only, and reads the old entry again once the store answers', async () => {
    const cache = cacheOver({ invalidationQueue: false });
    await cachedVersionOne(cache);
    store.alwaysThrow(new Error('ECONNREFUSED'));
    const error = await rejectionOf(cache.invalidateTags(['t'], { queueOnFailure: true }));
    expect((error as Error).message).to.not.match(/queued/);
    store.heal();
    await clock.tickAsync(10 * REPLAY_INTERVAL_MS);
    expect(cache.stats().queuedInvalidations).to.equal(0);
    expect(await cache.get('item:1', async () => 'v2')).to.equal('v1');
  });

  it('stops replaying on close()', async () => {
    const cache = cacheOver();
    store.alwaysThrow(new Error('ECONNREFUSED'));
    await rejectionOf(cache.invalidateTags(['t']));
    await cache.close();
    store.heal();
    const from = store.calls.length;
    await clock.tickAsync(10 * REPLAY_INTERVAL_MS);
    expect(callsSince(from)).to.deep.equal([]);
  });

  it('refuses per-call options it does not know, naming them', async () => {
    const cache = cacheOver();
    const wrongType = { queueOnFailure: 'yes' } as unknown as { queueOnFailure: boolean };
    const misspelt = { queueOnFail: true } as unknown as { queueOnFailure: boolean };
    const notAnObject = 'queue' as unknown as { queueOnFailure: boolean };
    expect(await rejectionOf(() => cache.invalidate('k', wrongType)))
      .to.be.instanceOf(TypeError)
      .with.property('message')
      .that.matches(/invalidate: `queueOnFailure` must be a boolean, got the string "yes"/);
    expect(await rejectionOf(() => cache.invalidateTags(['t'], misspelt)))
      .to.have.property('message')
      .that.matches(/invalidateTags: unknown option `queueOnFail`: did you mean `queueOnFailure`\?/);
    expect(await rejectionOf(() => cache.invalidatePattern('*', notAnObject)))
      .to.have.property('message')
      .that.matches(/invalidatePattern: options must be an object/);
  });
});

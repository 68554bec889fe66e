import { expect } from 'chai';
import sinon from 'sinon';
import type { Cache } from '../../../src/engine/cache.js';
import { Revalidated } from '../../../src/engine/entry-options.js';
import { CacheOptionError } from '../../../src/errors.js';
import type { CacheEventMap } from '../../../src/events.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

/** A memory store whose every method is a spy, so that a spec can say it was not touched at all. */
function watchedStore(): { store: MemoryStore; calls: () => string[] } {
  const store = new MemoryStore();
  const spied = sinon.spy(store);
  const methods = Object.getOwnPropertyNames(MemoryStore.prototype).filter((name) => name !== 'constructor');
  return {
    store,
    calls: () =>
      methods.filter((name) => (spied[name as keyof MemoryStore] as sinon.SinonSpy | undefined)?.called),
  };
}

function record<E extends keyof CacheEventMap>(cache: Cache, event: E): CacheEventMap[E][0][] {
  const seen: CacheEventMap[E][0][] = [];
  (cache.events.on as (name: E, listener: (payload: CacheEventMap[E][0]) => void) => void)(event, (payload) =>
    seen.push(payload),
  );
  return seen;
}

describe('Cache modes', () => {
  describe('setMode', () => {
    it('starts on, switches at once, and tells a change once as a `mode` event', async () => {
      const cache = makeCache();
      const switches = record(cache, 'mode');
      expect(cache.mode).to.equal('on');
      const switching = cache.setMode('shadow');
      expect(cache.mode, 'switched before the promise settles').to.equal('shadow');
      await switching;
      await cache.setMode('shadow');
      await cache.setMode('off');
      expect(switches).to.deep.equal([
        { mode: 'shadow', previous: 'on', fromAnotherInstance: false },
        { mode: 'off', previous: 'shadow', fromAnotherInstance: false },
      ]);
    });

    for (const bad of ['of', 'ON', '', undefined, null, 1, { mode: 'off' }]) {
      it(`refuses the mode ${JSON.stringify(bad) ?? 'undefined'}, naming it, and switches nothing`, async () => {
        const cache = makeCache();
        const error = await rejectionOf(cache.setMode(bad as never));
        expect(error).to.be.instanceOf(CacheOptionError).and.be.instanceOf(TypeError);
        expect((error as Error).message).to.match(/`mode` must be one of 'on', 'off', 'shadow', got /);
        if (typeof bad === 'string') expect((error as Error).message).to.include(JSON.stringify(bad));
        expect(cache.mode).to.equal('on');
      });
    }

    it('refuses options other than { everywhere: boolean }, and switches nothing', async () => {
      const cache = makeCache();
      const messages = await Promise.all(
        [{ everywhere: 'yes' }, { everyWhere: true }, 'everywhere', null].map(
          async (options) => ((await rejectionOf(cache.setMode('off', options as never))) as Error).message,
        ),
      );
      expect(messages).to.deep.equal([
        'setMode: `everywhere` must be a boolean, got the string "yes"',
        'setMode: unknown option `everyWhere`: did you mean `everywhere`?',
        'setMode: options must be an object, got the string "everywhere"',
        'setMode: options must be an object, got null',
      ]);
      expect(cache.mode).to.equal('on');
    });

    it('switches a cache with no Redis channel (a custom store) alone with `everywhere`', async () => {
      const cache = makeCache();
      await cache.setMode('off', { everywhere: true });
      expect(cache.mode).to.equal('off');
    });
  });

  describe('off', () => {
    it('runs the loader on every call and neither reads nor writes the store', async () => {
      const { store, calls } = watchedStore();
      const cache = makeCache({ store });
      await cache.setMode('off');
      const loader = sinon.stub().callsFake(async (key: string) => `${key}@${loader.callCount}`);
      expect(await cache.get('k', loader)).to.equal('k@1');
      expect(await cache.get('k', loader)).to.equal('k@2');
      expect(await cache.lookup('k', loader)).to.deep.equal({
        value: 'k@3',
        result: 'miss',
        coalesced: false,
      });
      expect(await cache.getMany(['a', 'b'], async (keys) => keys.map((key) => `${key}!`))).to.deep.equal([
        'a!',
        'b!',
      ]);
      expect(calls()).to.deep.equal([]);
    });

    it('neither serves from nor fills the in-process tier, and reports no lookup', async () => {
      const cache = makeCache({ memoryTier: { maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 } });
      await cache.get('k', () => 'held');
      const lookups = record(cache, 'lookup');
      await cache.setMode('off');
      expect(await cache.get('k', () => 'fresh')).to.equal('fresh');
      expect(await cache.get('other', () => 'fresh')).to.equal('fresh');
      expect(cache.stats().memoryEntries).to.equal(1);
      expect(lookups).to.deep.equal([]);
      await cache.setMode('on');
      expect(await cache.get('k', () => 'fresh'), 'the cache is as off found it').to.equal('held');
    });

    it('gives the value a loader returns wrapped as revalidated, as when on', async () => {
      const cache = makeCache();
      await cache.setMode('off');
      expect(await cache.get('k', () => new Revalidated('kept'))).to.equal('kept');
    });

    it("checks getMany's loader as when on", async () => {
      const cache = makeCache();
      await cache.setMode('off');
      const error = await rejectionOf(cache.getMany(['a', 'b'], async () => ['a']));
      expect((error as Error).message).to.equal(
        'getMany: the loader must return an array of 2 values, in key order',
      );
    });
  });

  describe('shadow', () => {
    async function shadowCache(options: Parameters<typeof makeCache>[0] = {}) {
      const cache = makeCache(options);
      await cache.setMode('shadow');
      return { cache, shadows: record(cache, 'shadow'), lookups: record(cache, 'lookup') };
    }

    it('answers with the loader every time, and reports a would-be miss, then would-be hits', async () => {
      const { cache, shadows, lookups } = await shadowCache();
      let version = 1;
      const loader = sinon.stub().callsFake(async () => ({ version }));
      expect(await cache.get('k', loader)).to.deep.equal({ version: 1 });
      expect(await cache.get('k', loader)).to.deep.equal({ version: 1 });
      version = 2;
      expect(await cache.get('k', loader), 'the fresh value, not the stored one').to.deep.equal({
        version: 2,
      });
      expect(loader.callCount).to.equal(3);
      expect(loader.firstCall.args[1]).to.include({ cause: 'shadow' });
      expect(shadows).to.deep.equal([
        { key: 'k', would: 'miss', match: 'none' },
        { key: 'k', would: 'hit', match: 'same' },
        { key: 'k', would: 'hit', match: 'different' },
      ]);
      expect(lookups, 'lookups count what the cache answered, and it answered none').to.deep.equal([]);
    });

    it('stores as the cache would have: after a would-be miss, not after a would-be hit', async () => {
      const { cache } = await shadowCache();
      await cache.get('k', () => 'first');
      await cache.get('k', () => 'second');
      await cache.setMode('on');
      expect(await cache.get('k', () => 'loaded'), 'the entry the would-be miss stored').to.equal('first');
    });

    it('reports a would-be stale answer and stores the fresh value in its place', async () => {
      const clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
      try {
        const { cache, shadows } = await shadowCache();
        await cache.get('k', () => 'old', { ttl: 1, staleTtl: 60 });
        clock.tick(2_000);
        expect(await cache.get('k', () => 'new', { ttl: 1, staleTtl: 60 })).to.equal('new');
        clock.tick(500);
        expect(await cache.get('k', () => 'new', { ttl: 1, staleTtl: 60 })).to.equal('new');
        expect(shadows.map(({ would, match }) => `${would}/${match}`)).to.deep.equal([
          'miss/none',
          'stale/different',
          'hit/same',
        ]);
      } finally {
        clock.restore();
      }
    });

    it('counts a stale entry as a would-be miss when the cache does not serve stale entries', async () => {
      const clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
      try {
        const { cache, shadows } = await shadowCache({ staleWhileRevalidate: false });
        await cache.get('k', () => 'old', { ttl: 1, staleTtl: 60 });
        clock.tick(2_000);
        await cache.get('k', () => 'new', { ttl: 1, staleTtl: 60 });
        expect(shadows.map(({ would, match }) => `${would}/${match}`)).to.deep.equal([
          'miss/none',
          'miss/none',
        ]);
      } finally {
        clock.restore();
      }
    });

    it('counts a value the source no longer has as different', async () => {
      const { cache, shadows } = await shadowCache();
      await cache.get('k', () => 'there');
      expect(await cache.get('k', () => null)).to.equal(null);
      expect(await cache.get('k', () => undefined)).to.equal(undefined);
      expect(shadows.slice(1).map(({ would, match }) => `${would}/${match}`)).to.deep.equal([
        'hit/different',
        'hit/different',
      ]);
    });

    it('answers with the loader when the store fails, as a would-be miss (the cache, on, would have missed)', async () => {
      const store = new ChaosStore().alwaysThrow();
      const { cache, shadows } = await shadowCache({ store, circuitBreakerThreshold: 0 });
      expect(await cache.get('k', () => 'loaded')).to.equal('loaded');
      expect(shadows).to.deep.equal([{ key: 'k', would: 'miss', match: 'none' }]);
    });

    it('says what lookup would have answered in its outcome, and leaves reporting it to the caller', async () => {
      const { cache, shadows } = await shadowCache();
      await cache.lookup('k', () => 'first');
      const outcome = await cache.lookup('k', () => 'second');
      expect(outcome).to.deep.equal({
        value: 'second',
        result: 'miss',
        coalesced: false,
        shadow: { would: 'hit', cached: 'first' },
      });
      expect(shadows).to.deep.equal([]);
    });

    it('runs one loader per caller: concurrent callers share no load', async () => {
      const { cache } = await shadowCache();
      const loader = sinon.stub().callsFake(async () => loader.callCount);
      const values = await Promise.all([
        cache.get('k', loader),
        cache.get('k', loader),
        cache.get('k', loader),
      ]);
      expect(values.sort()).to.deep.equal([1, 2, 3]);
    });

    it('passes on a failing loader and reports nothing for it', async () => {
      const { cache, shadows } = await shadowCache();
      await cache.get('k', () => 'stored');
      const error = await rejectionOf(
        cache.get('k', () => {
          throw new Error('source down');
        }),
      );
      expect((error as Error).message).to.equal('source down');
      expect(shadows).to.have.lengthOf(1);
    });

    it('reads, loads and reports every key of getMany, storing only the would-be misses', async () => {
      const { cache, shadows } = await shadowCache();
      await cache.get('a', () => 'a1');
      const values = await cache.getMany(['a', 'b'], async (keys) => keys.map((key) => `${key}2`));
      expect(values).to.deep.equal(['a2', 'b2']);
      expect(shadows.slice(1)).to.deep.equal([
        { key: 'a', would: 'hit', match: 'different' },
        { key: 'b', would: 'miss', match: 'none' },
      ]);
      await cache.setMode('on');
      expect(await cache.getMany(['a', 'b'], async () => ['x', 'y'])).to.deep.equal(['a1', 'b2']);
    });
  });
});

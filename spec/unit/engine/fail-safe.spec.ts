import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import sinon from 'sinon';
import type { Cache } from '../../../src/engine/cache.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { countingLoader } from '../../support/counting-loader.js';
import { type Deferred, deferred } from '../../support/deferred.js';
import { eventually } from '../../support/eventually.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

// Freshness is driven by a fake `Date` (entries go stale without waiting for them); timeouts,
// which the engine measures with real timers, use real and short waits. A busy machine stretches
// every wait, so specs assert what was waited for (which store calls, which timer fired first),
// not how long it took.

const FRESH_SECONDS = 1;
const GRACE_SECONDS = 60;

/** Loads held open by specs; each `afterEach` ends them, so `close()` never waits on a failed spec's load. */
const heldOpen: Array<() => void> = [];

/** A promise settled from outside, which the next `afterEach` rejects if the spec has not settled it. */
function heldOpenUntilAfterEach<T>(): Deferred<T> {
  const held = deferred<T>();
  heldOpen.push(() => held.reject(new Error('released by afterEach')));
  return held;
}

/** A lookup of `item` whose loader fails rejects with that very error: nothing stale stands in for it. */
async function expectTheLoadersError(cache: Cache): Promise<void> {
  const failure = new Error('database down');
  const error = await rejectionOf(
    cache.lookup('item', async () => {
      throw failure;
    }),
  );
  expect(error).to.equal(failure);
}

describe('Fail-safe (engine)', () => {
  let clock: sinon.SinonFakeTimers;
  const caches: Cache[] = [];

  /** A cache whose entries are fresh for 1 s and usable stale for 60 s more. */
  function staleCapableCache(options: Parameters<typeof makeCache>[0] = {}): Cache {
    const cache = makeCache({ ttl: FRESH_SECONDS, staleTtl: GRACE_SECONDS, ...options });
    caches.push(cache);
    return cache;
  }

  /** A cache over a store whose every call fails, with a circuit that half-opens after 1 s. */
  function cacheOverFailingStore(options: Parameters<typeof makeCache>[0]): {
    store: ChaosStore;
    cache: Cache;
  } {
    const store = new ChaosStore().alwaysThrow();
    const cache = staleCapableCache({ store, circuitBreakerHalfOpenAfterMs: 1000, ...options });
    return { store, cache };
  }

  /** Moves the clock past freshness (but within the grace period). */
  function goStale(): void {
    clock.setSystemTime(Date.now() + FRESH_SECONDS * 1000 + 1);
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
  });

  afterEach(async () => {
    clock.restore();
    for (const release of heldOpen.splice(0)) release();
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  describe('stale-while-revalidate (the default)', () => {
    it('serves a stale entry at once and runs one background refresh for many concurrent lookups', async () => {
      const cache = staleCapableCache();
      await cache.get('item', async () => 'v1');
      goStale();
      const slowRefresh = heldOpenUntilAfterEach<string>();
      const loader = countingLoader(() => slowRefresh.promise);

      const outcomes = await Promise.all(Array.from({ length: 20 }, () => cache.lookup('item', loader.load)));
      await eventually(async () => loader.calls > 0);
      await sleep(20);

      expect(outcomes.map((outcome) => [outcome.result, outcome.value])).to.deep.equal(
        Array.from({ length: 20 }, () => ['stale', 'v1']),
      );
      expect(loader.calls, 'one refresh, still running while all 20 were answered').to.equal(1);
    });

    it('serves the refreshed value as a hit once the refresh is done', async () => {
      const cache = staleCapableCache();
      await cache.get('item', async () => 'v1');
      goStale();

      await cache.lookup('item', async () => 'v2');
      await eventually(async () => (await cache.lookup('item', async () => 'unused')).result === 'hit');

      expect(await cache.lookup('item', async () => 'unused')).to.include({ result: 'hit', value: 'v2' });
    });

    it('refreshes once across instances: another instance serving the same stale entry does not refresh it too', async () => {
      const shared = new MemoryStore();
      const first = staleCapableCache({ store: shared });
      const second = staleCapableCache({ store: shared });
      await first.get('item', async () => 'v1');
      goStale();
      const slowRefresh = heldOpenUntilAfterEach<string>();
      const loader = countingLoader(() => slowRefresh.promise);

      const [fromFirst, fromSecond] = await Promise.all([
        first.lookup('item', loader.load),
        (async () => {
          await sleep(10);
          return second.lookup('item', loader.load);
        })(),
      ]);

      await sleep(20);

      expect([fromFirst.result, fromSecond.result]).to.deep.equal(['stale', 'stale']);
      expect(loader.calls).to.equal(1);
    });

    it('keeps serving the stale entry while refreshes fail, and counts the failed loads', async () => {
      const cache = staleCapableCache();
      await cache.get('item', async () => 'v1');
      goStale();
      const failing = countingLoader<string>(() => {
        throw new Error('database down');
      });

      for (let attempt = 0; attempt < 3; attempt++) {
        expect(await cache.lookup('item', failing.load)).to.include({ result: 'stale', value: 'v1' });
        await eventually(async () => cache.stats().loadErrors > attempt);
      }

      expect(cache.stats()).to.include({ stale: 3, loadErrors: 3 });
    });

    it('never serves an entry past its grace period: the loader answers, as on a miss', async () => {
      const cache = staleCapableCache();
      await cache.get('item', async () => 'v1');
      clock.setSystemTime(Date.now() + (FRESH_SECONDS + GRACE_SECONDS) * 1000 + 1);

      expect(await cache.lookup('item', async () => 'v2')).to.include({ result: 'miss', value: 'v2' });
    });
  });

  describe('stale-if-error (staleWhileRevalidate: false)', () => {
    it('serves the stale entry when the loader throws', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false });
      await cache.get('item', async () => 'v1');
      goStale();

      const outcome = await cache.lookup('item', async () => {
        throw new Error('database down');
      });

      expect(outcome).to.include({ result: 'stale', value: 'v1' });
      expect(cache.stats()).to.include({ loadErrors: 1, stale: 1 });
    });

    it('waits for the loader and serves its value when it succeeds: stale is only a fallback', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false });
      await cache.get('item', async () => 'v1');
      goStale();

      expect(await cache.lookup('item', async () => 'v2')).to.include({ result: 'miss', value: 'v2' });
    });

    it("rejects with the loader's own error when there is no stale entry", async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false });
      await expectTheLoadersError(cache);
    });

    it('rejects when the only entry is past its grace period', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false });
      await cache.get('item', async () => 'v1');
      clock.setSystemTime(Date.now() + (FRESH_SECONDS + GRACE_SECONDS) * 1000 + 1);
      await expectTheLoadersError(cache);
    });

    it('rejects with the loader error when no grace period is configured (staleTtl 0)', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false, staleTtl: 0 });
      await cache.get('item', async () => 'v1');
      goStale();
      await expectTheLoadersError(cache);
    });
  });

  describe('soft timeout (loadTimeoutMs)', () => {
    it('serves the stale entry once loadTimeoutMs has passed; the load goes on and refreshes the entry', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false, loadTimeoutMs: 40 });
      await cache.get('item', async () => 'v1');
      goStale();
      const slowLoad = heldOpenUntilAfterEach<string>();
      const startedAt = performance.now();
      // Set just before the lookup's own 40 ms timer: timers fire in order of their due time, so
      // on a machine however busy, the stale answer comes before this one unless the lookup waited
      // for something else than its loadTimeoutMs.
      let laterTimerFired = false;
      const laterTimer = setTimeout(() => {
        laterTimerFired = true;
      }, 5 * 40);

      const outcome = await cache.lookup('item', () => slowLoad.promise);
      const waitedMs = performance.now() - startedAt;
      const answeredBeforeLaterTimer = !laterTimerFired;
      clearTimeout(laterTimer);
      slowLoad.resolve('v2');
      await eventually(async () => (await cache.lookup('item', async () => 'unused')).result === 'hit');

      expect(outcome).to.include({ result: 'stale', value: 'v1' });
      expect(waitedMs, 'it waited loadTimeoutMs for the load first').to.be.at.least(35);
      expect(answeredBeforeLaterTimer, 'answered when loadTimeoutMs passed, not later').to.equal(true);
      expect(await cache.get('item', async () => 'unused')).to.equal('v2');
    });

    it('does not cut a load short when there is no stale entry to serve instead', async () => {
      const cache = staleCapableCache({ staleWhileRevalidate: false, loadTimeoutMs: 20 });

      const outcome = await cache.lookup('item', async () => {
        await sleep(80);
        return 'v1';
      });

      expect(outcome).to.include({ result: 'miss', value: 'v1' });
    });
  });

  describe('a failing store', () => {
    it('answers every lookup from the loader while the store throws, and counts the failures', async () => {
      const store = new ChaosStore().alwaysThrow();
      const cache = staleCapableCache({ store, circuitBreakerThreshold: 0 });

      const values = await Promise.all(
        ['a', 'b', 'c'].map((key) => cache.get(key, async () => `value-${key}`)),
      );

      expect(values).to.deep.equal(['value-a', 'value-b', 'value-c']);
      // Per lookup, one failed read; nothing more is asked of a store just found unreachable (without
      // a lease, nothing is written either).
      expect(cache.stats().errors).to.equal(3);
      expect(store.calls.map((call) => call.method)).to.deep.equal(['get', 'get', 'get']);
    });

    it('bounds a lookup by redisTimeoutMs when the store hangs', async () => {
      const timeoutMs = 150;
      const store = new ChaosStore().hang();
      const cache = staleCapableCache({ store, redisTimeoutMs: timeoutMs, circuitBreakerThreshold: 0 });
      const givenUp: string[] = [];
      cache.events.on('failure', ({ operation, error }) => {
        givenUp.push(`${operation}: ${(error as { code?: string }).code}`);
      });

      // The store never answers: the lookup can only end through its timeouts.
      const value = await cache.get('item', async () => 'loaded');

      expect(value).to.equal('loaded');
      // One read, given up after the timeout; neither the lock nor a lease is asked of a Redis that
      // just timed out (each would be another timeout before the loader runs), so nothing is written.
      expect(
        store.calls.map((call) => call.method),
        'the store calls the lookup waited for',
      ).to.deep.equal(['get']);
      expect(givenUp, 'given up after redisTimeoutMs').to.deep.equal(['get: E_STORE_TIMEOUT']);
    });

    it('keeps lookups away from the store while the circuit is open, and closes it after a successful probe', async () => {
      const { store, cache } = cacheOverFailingStore({ circuitBreakerThreshold: 3 });
      const circuit: boolean[] = [];
      cache.events.on('circuit', ({ open }) => circuit.push(open));

      for (let request = 0; circuit.length === 0 && request < 10; request++) {
        await cache.get(`warm-${request}`, async () => 'loaded');
      }
      const callsWhenOpened = store.calls.length;
      const whileOpen = await Promise.all(
        Array.from({ length: 10 }, (_, index) => cache.get(`open-${index}`, async () => `loaded-${index}`)),
      );

      expect(circuit).to.deep.equal([true]);
      expect(whileOpen).to.deep.equal(Array.from({ length: 10 }, (_, index) => `loaded-${index}`));
      expect(store.calls.length, 'no store call while the circuit is open').to.equal(callsWhenOpened);

      store.heal();
      clock.setSystemTime(Date.now() + 1001);
      await cache.get('probe', async () => 'loaded');
      await cache.get('after', async () => 'stored');

      expect(circuit).to.deep.equal([true, false]);
      expect(await cache.lookup('after', async () => 'unused')).to.include({
        result: 'hit',
        value: 'stored',
      });
    });

    it('does not open the circuit for errors Redis answers with (OOM, READONLY, WRONGTYPE)', async () => {
      // node-redis raises these as `ErrorReply`: Redis is up and refused one command.
      class ErrorReply extends Error {}
      const store = new ChaosStore().alwaysThrow(new ErrorReply('OOM command not allowed'), {
        only: ['set'],
      });
      const cache = staleCapableCache({ store, circuitBreakerThreshold: 2 });
      let opened = false;
      cache.events.on('circuit', ({ open }) => {
        opened ||= open;
      });

      await Promise.all(Array.from({ length: 10 }, (_, index) => cache.get(`new-${index}`, async () => 'x')));

      expect(opened).to.equal(false);
      expect(cache.stats().errors).to.equal(10);
      store.alwaysThrow(new Error('connection lost'), { only: ['set'] });
      await Promise.all(
        Array.from({ length: 3 }, (_, index) => cache.get(`later-${index}`, async () => 'x')),
      );
      expect(opened, 'an outage still opens it').to.equal(true);
    });

    it('does not hold lookups behind the half-open probe', async () => {
      const { store, cache } = cacheOverFailingStore({ redisTimeoutMs: 150, circuitBreakerThreshold: 1 });
      await cache.get('opens-the-circuit', async () => 'loaded');
      store.heal().hang();
      clock.setSystemTime(Date.now() + 1001);

      let probeAnswered = false;
      const probe = cache
        .get('probe', async () => 'loaded')
        .finally(() => {
          probeAnswered = true;
        });
      const callsBeforeOthers = store.calls.length;
      const others = await Promise.all(
        Array.from({ length: 5 }, (_, index) => cache.get(`other-${index}`, async () => 'loaded')),
      );
      const othersAnsweredFirst = !probeAnswered;
      const callsByOthers = store.calls.length - callsBeforeOthers;

      expect(others).to.have.length(5);
      expect(callsByOthers, 'the others skip Redis while the probe waits for it').to.equal(0);
      expect(othersAnsweredFirst, 'all answered while the probe still waited for Redis').to.equal(true);
      expect(await probe).to.equal('loaded');
    });
  });
});

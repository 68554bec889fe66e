import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import sinon from 'sinon';
import type { HeldLock, LeaseGrant } from '../../../src/engine/cache-backend.js';
import {
  DistributedLock,
  type DistributedLockConfig,
  type PeerResult,
} from '../../../src/engine/distributed-lock.js';
import { CacheEvents } from '../../../src/events.js';
import type { CacheStore } from '../../../src/store/cache-store.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ResilientStore } from '../../../src/store/resilient-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { countingLoader } from '../../support/counting-loader.js';
import { type Deferred, deferred } from '../../support/deferred.js';
import { rejectionOf } from '../../support/rejection-of.js';

// The lock's pauses come from node:timers/promises, which sinon's fake timers do not reach from
// ESM; the waits here are real and short (tens of milliseconds). Nothing here bounds how long a
// step takes on the wall clock, which a busy machine stretches: specs assert what the waiter did
// (which store calls, holding the lock or not) and lower bounds (a pause is never shorter than
// asked), and a wait that must not happen is made far longer than the steps it must not delay.

const LOCK_KEY = 'test:__ca:lock:item';
/** A lock lifetime no spec outlives: only its holder's release frees the lock. */
const NEVER_MS = 10 * 60_000;
/**
 * A `waitMs` far longer than any step here takes, however busy the machine, yet within mocha's
 * timeout: a waiter that wrongly sits it out ends, and fails on what it did, not on a timeout.
 */
const LONG_WAIT_MS = 5_000;
const ENTRY_KEY = 'test:item';

/** One app instance's lock over `store`; instances that share a store contend for the same locks. */
function lockOver(store: CacheStore, config: Partial<DistributedLockConfig> = {}): DistributedLock {
  const resilient = new ResilientStore(store, new CacheEvents(), {
    timeoutMs: 100,
    breakerThreshold: 0,
    breakerHalfOpenAfterMs: 1000,
    invalidationAttempts: 1,
    invalidationBackoffMs: 0,
  });
  return new DistributedLock(resilient, { ttlMs: 1000, waitMs: 300, pollMs: 5, ...config });
}

/** The holder's result as these specs store it: the entry's bytes, as text. */
const textResult: PeerResult<string> = { entryKey: ENTRY_KEY, decode: (bytes) => bytes?.toString() };

/** A loader that answers `'own'` and notes whether the lock over `store` was held while it ran. */
function lockCheckingLoad(store: CacheStore): { lockHeld: boolean; load: () => Promise<string> } {
  const loader = {
    lockHeld: false,
    load: async () => {
      loader.lockHeld = !(await store.acquireLock(LOCK_KEY, 'someone-else', 1000));
      return 'own';
    },
  };
  return loader;
}

/** Takes the lock over `store` for a holder whose load and lock outlive the spec; resolve it to end the load. */
function holdLockForever(store: CacheStore): Deferred<string> {
  const stuck = deferred<string>();
  void lockOver(store, { ttlMs: NEVER_MS }).run(LOCK_KEY, () => stuck.promise, textResult, 'wait');
  return stuck;
}

/**
 * A waiting lock over `store`, whose Redis fails, loads by itself at once (`'own'`), having made exactly
 * the store `calls` (`why` says what they show).
 */
async function expectLoadsAtOnce(store: ChaosStore, calls: string[], why: string): Promise<void> {
  const outcome = await lockOver(store, { waitMs: LONG_WAIT_MS }).run(
    LOCK_KEY,
    async () => 'own',
    textResult,
    'wait',
  );
  expect(outcome).to.deep.equal({ source: 'loaded', value: 'own' });
  expect(
    store.calls.map((call) => call.method),
    why,
  ).to.deep.equal(calls);
}

/** Stores `text` as the holder's result, as a holder's load does. */
async function storeResult(store: CacheStore, text: string): Promise<void> {
  await store.set(ENTRY_KEY, Buffer.from(text), { ttlMs: 60_000 });
}

describe('DistributedLock', () => {
  describe('the holder', () => {
    it("takes every lock with a token no other holder has: this instance's other loads, or another instance's", async () => {
      const store = new MemoryStore();
      const tokens: string[] = [];
      const held = async (lock: DistributedLock) =>
        lock.run(LOCK_KEY, async (holding) => tokens.push(holding?.token ?? 'none'), textResult, 'wait');
      const one = lockOver(store);
      const other = lockOver(store);
      for (const lock of [one, one, other, one, other]) await held(lock);

      expect(tokens).to.have.lengthOf(5);
      expect(tokens).to.not.include('none');
      expect(new Set(tokens).size).to.equal(5);
    });

    it('takes the lock with SET NX PX and a token of its own, and releases it with that token', async () => {
      const store = new ChaosStore();
      const lock = lockOver(store, { ttlMs: 1234 });
      let heldDuringLoad = false;

      const first = await lock.run(
        LOCK_KEY,
        async () => {
          heldDuringLoad = !(await store.inner.acquireLock(LOCK_KEY, 'someone-else', 1000));
          return 'value';
        },
        textResult,
        'wait',
      );
      await lock.run(LOCK_KEY, async () => 'again', textResult, 'wait');

      expect(first).to.deep.equal({ source: 'loaded', value: 'value' });
      expect(heldDuringLoad, 'another token is refused while the loader runs').to.equal(true);
      const [acquired, acquiredAgain] = store.callsTo('acquireLock').map((call) => call.args);
      const [released] = store.callsTo('releaseLock').map((call) => call.args);
      expect(acquired?.[0]).to.equal(LOCK_KEY);
      expect(acquired?.[2], 'PX: the lock lifetime in ms').to.equal(1234);
      expect(released, 'compare-and-delete with the token it was taken with').to.deep.equal([
        LOCK_KEY,
        acquired?.[1],
      ]);
      expect(acquiredAgain?.[1], 'every run has its own token')
        .to.be.a('string')
        .and.not.equal(acquired?.[1]);
      expect(await store.inner.acquireLock(LOCK_KEY, 'someone-else', 1000), 'free after release').to.equal(
        true,
      );
    });

    it('releases the lock when the loader throws, and the caller gets the loader error', async () => {
      const store = new MemoryStore();
      const failure = new Error('database down');

      const outcome = lockOver(store).run(
        LOCK_KEY,
        async () => {
          throw failure;
        },
        textResult,
        'wait',
      );

      expect(await rejectionOf(outcome)).to.equal(failure);
      expect(await store.acquireLock(LOCK_KEY, 'next-holder', 1000)).to.equal(true);
    });

    it('is never held past its TTL: a holder that outlives it cannot release the next holder', async () => {
      const store = new MemoryStore();
      const slowLoad = deferred<string>();
      const first = lockOver(store, { ttlMs: 40 }).run(LOCK_KEY, () => slowLoad.promise, textResult, 'wait');
      await sleep(60);

      expect(await store.acquireLock(LOCK_KEY, 'next-holder', 5000), 'expired after ttlMs').to.equal(true);
      slowLoad.resolve('late');
      expect(await first).to.deep.equal({ source: 'loaded', value: 'late' });
      expect(
        await store.acquireLock(LOCK_KEY, 'third', 5000),
        "the late holder's release left the next holder's lock alone",
      ).to.equal(false);
    });

    it('reads the entry with the lock: a result stored just before it took the lock is used, not loaded again', async () => {
      const store = new MemoryStore();
      await storeResult(store, 'stored by the previous holder');
      const own = countingLoader(() => 'own');

      const outcome = await lockOver(store).run(LOCK_KEY, own.load, textResult, 'wait');

      expect(outcome).to.deep.equal({ source: 'peer', stored: 'stored by the previous holder' });
      expect(own.calls, 'own loads').to.equal(0);
      expect(await store.acquireLock(LOCK_KEY, 'next-holder', 1000), 'released').to.equal(true);
    });

    it('reads the entry only once the lock is taken when the store has no lock-and-read of its own', async () => {
      const store = new ChaosStore();
      await storeResult(store.inner, 'stored by the previous holder');

      const outcome = await lockOver(store).run(LOCK_KEY, async () => 'own', textResult, 'wait');

      expect(outcome).to.deep.equal({ source: 'peer', stored: 'stored by the previous holder' });
      // The lease of the load, read beside the first attempt at the lock.
      expect(store.calls.map((call) => call.method)).to.deep.equal([
        'readLease',
        'acquireLock',
        'get',
        'releaseLock',
      ]);
    });

    it('with ttlMs 0 runs the loader without a lock, under the lease alone', async () => {
      const store = new ChaosStore();

      const outcome = await lockOver(store, { ttlMs: 0 }).run(
        LOCK_KEY,
        async (held, lease) => ({ held, lease: typeof lease === 'object' }),
        textResult,
        'wait',
      );

      expect(outcome).to.deep.equal({ source: 'loaded', value: { held: undefined, lease: true } });
      expect(store.calls.map((call) => call.method)).to.deep.equal(['readLease']);
    });
  });

  describe('the lease of the load, read with the first attempt at the lock', () => {
    /** The lease `load` was given, and whether it held the lock then. */
    const leaseOfLoad =
      (seen: { lease?: LeaseGrant; held?: boolean }) =>
      async (held: HeldLock | undefined, lease: LeaseGrant) => {
        seen.lease = lease;
        seen.held = held !== undefined;
        return 'own';
      };

    it('comes in the same store call as the lock when the store has acquireLockAndGetWithLease', async () => {
      const store = new MemoryStore();
      const combined = sinon.spy(store, 'acquireLockAndGetWithLease');
      const readLease = sinon.spy(store, 'readLease');
      const seen: { lease?: LeaseGrant; held?: boolean } = {};

      await lockOver(store).run(LOCK_KEY, leaseOfLoad(seen), textResult, 'wait');

      expect(seen).to.deep.include({ held: true });
      expect(seen.lease).to.deep.include({ generation: 0 });
      expect(combined.callCount).to.equal(1);
      // Inside the combined call, not beside it.
      expect(readLease.callCount).to.equal(1);
      expect(readLease.calledAfter(combined)).to.equal(true);
    });

    it('is read again when the lock is taken over from a holder that gave up: an invalidation during the wait does not refuse the value loaded after it', async () => {
      const store = new MemoryStore();
      const holderLoad = deferred<string>();
      const holderFailure = rejectionOf(
        lockOver(store).run(LOCK_KEY, () => holderLoad.promise, textResult, 'wait'),
      );
      const seen: { lease?: LeaseGrant; held?: boolean } = {};
      const waiter = lockOver(store, { waitMs: LONG_WAIT_MS }).run(
        LOCK_KEY,
        leaseOfLoad(seen),
        textResult,
        'wait',
      );
      await sleep(20);
      // An invalidation while the waiter waits: a lease taken now would not see it as "after".
      await store.delete(['test:other']);
      holderLoad.reject(new Error('holder failed'));

      expect(await waiter).to.deep.equal({ source: 'loaded', value: 'own' });
      expect(seen).to.deep.include({ held: true });
      // Read after the lock was taken over, before the load began: it counts the invalidation.
      expect(seen.lease).to.deep.include({ generation: 1 });
      const lease = seen.lease as Exclude<LeaseGrant, 'none' | 'unavailable'>;
      expect(await store.set('test:item', Buffer.from('own'), { ttlMs: 1000, lease })).to.equal('stored');
      await holderFailure;
    });

    it("is 'unavailable' when the store fails, and the load runs without the lock", async () => {
      const store = new ChaosStore().alwaysThrow();
      const seen: { lease?: LeaseGrant; held?: boolean } = {};

      await lockOver(store).run(LOCK_KEY, leaseOfLoad(seen), textResult, 'wait');

      expect(seen).to.deep.equal({ lease: 'unavailable', held: false });
    });
  });

  describe('another instance, while the lock is held', () => {
    it("waits for the holder's result and does not run its own loader", async () => {
      const store = new MemoryStore();
      const holderLoad = deferred<string>();
      const holder = lockOver(store).run(
        LOCK_KEY,
        async () => {
          const published = await holderLoad.promise;
          await storeResult(store, published);
          return published;
        },
        textResult,
        'wait',
      );
      let waiterLoads = 0;

      // The waiter must see the holder's result, not give up first however slow the machine is.
      const waiter = lockOver(store, { waitMs: LONG_WAIT_MS }).run(
        LOCK_KEY,
        async () => {
          waiterLoads++;
          return 'own';
        },
        textResult,
        'wait',
      );
      await sleep(30);
      holderLoad.resolve('from-holder');

      expect(await waiter).to.deep.equal({ source: 'peer', stored: 'from-holder' });
      expect(await holder).to.deep.equal({ source: 'loaded', value: 'from-holder' });
      expect(waiterLoads).to.equal(0);
    });

    it('takes over at once when the holder gives up without a result', async () => {
      const store = new MemoryStore();
      const holderLoad = deferred<string>();
      const holderFailure = rejectionOf(
        lockOver(store).run(LOCK_KEY, () => holderLoad.promise, textResult, 'wait'),
      );
      const own = lockCheckingLoad(store);

      // Long before waitMs: only the holder's release can end the wait this soon.
      const waiter = lockOver(store, { waitMs: LONG_WAIT_MS }).run(LOCK_KEY, own.load, textResult, 'wait');
      await sleep(20);
      holderLoad.reject(new Error('holder failed'));

      expect(await waiter).to.deep.equal({ source: 'loaded', value: 'own' });
      expect(own.lockHeld, 'it took the released lock over, long before waitMs').to.equal(true);
      expect(await holderFailure).to.have.property('message', 'holder failed');
    });

    it('loads by itself once waitMs has passed, when the holder never finishes', async () => {
      const store = new MemoryStore();
      // The holder's lock outlives the spec: only waitMs can end the wait.
      const stuck = holdLockForever(store);
      const startedAt = performance.now();
      const own = lockCheckingLoad(store);

      const outcome = await lockOver(store, { waitMs: 120 }).run(LOCK_KEY, own.load, textResult, 'wait');

      const waitedMs = performance.now() - startedAt;
      expect(outcome).to.deep.equal({ source: 'loaded', value: 'own' });
      expect(waitedMs, 'it waited waitMs first').to.be.at.least(110);
      expect(own.lockHeld, 'it gave up on the holder, which still held the lock').to.equal(true);
      stuck.resolve('done');
    });

    it('polls with a growing pause, not in a busy loop', async () => {
      const store = new MemoryStore();
      const stuck = holdLockForever(store);
      // The holder's result shows up at the 7th read; until then each read finds nothing.
      const readAtMs: number[] = [];
      const startedAt = performance.now();

      const outcome = await lockOver(store, { waitMs: LONG_WAIT_MS, pollMs: 5 }).run(
        LOCK_KEY,
        async () => 'own',
        {
          entryKey: ENTRY_KEY,
          decode: () => {
            readAtMs.push(performance.now());
            return readAtMs.length === 7 ? 'from-holder' : undefined;
          },
        },
        'wait',
      );

      expect(outcome).to.deep.equal({ source: 'peer', stored: 'from-holder' });
      // Pauses of 5, 10, 20, then 40 ms (8 × pollMs) from then on: a 5 ms loop would make every gap
      // 5 ms. A busy machine only lengthens pauses, so each gap is at least its pause (less 1 ms of
      // timer rounding).
      const gaps = readAtMs.map(
        (atMs, index) => atMs - (index === 0 ? startedAt : (readAtMs[index - 1] ?? 0)),
      );
      const pauses = [5, 10, 20, 40, 40, 40, 40];
      gaps.forEach((gapMs, index) => {
        expect(gapMs, `pause before read ${index + 1}`).to.be.at.least((pauses[index] ?? 0) - 1);
      });
      stuck.resolve('done');
    });

    it("gives up at once with 'skip' (a background refresh another instance already runs)", async () => {
      const store = new MemoryStore();
      const holderLoad = deferred<string>();
      void lockOver(store).run(LOCK_KEY, () => holderLoad.promise, textResult, 'wait');
      const own = countingLoader(() => 'own');

      const outcome = await lockOver(store).run(LOCK_KEY, own.load, textResult, 'skip');

      expect(outcome).to.deep.equal({ source: 'skipped' });
      expect(own.calls, 'own loads').to.equal(0);
      holderLoad.resolve('done');
    });
  });

  describe('when Redis fails', () => {
    it('loads at once when the lock cannot be taken', async () => {
      const store = new ChaosStore().alwaysThrow();

      await expectLoadsAtOnce(
        store,
        ['readLease', 'acquireLock'],
        'one failed lock attempt (beside its lease), then no polling: no wait',
      );
    });

    it("stops waiting and loads at once when the holder's result cannot be read", async () => {
      const store = new MemoryStore();
      const stuck = holdLockForever(store);

      const unreadable = new ChaosStore(store).alwaysThrow(undefined, { only: ['get'] });

      await expectLoadsAtOnce(
        unreadable,
        ['readLease', 'acquireLock', 'get'],
        'the lock was held, the first read failed, and it loaded without polling again',
      );
      stuck.resolve('done');
    });
  });
});

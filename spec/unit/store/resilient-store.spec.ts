import { expect } from 'chai';
import sinon from 'sinon';
import { CacheError } from '../../../src/errors.js';
import { type CacheEventMap, CacheEvents } from '../../../src/events.js';
import { PartialReadError } from '../../../src/store/cache-store.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { type ResilienceConfig, ResilientStore } from '../../../src/store/resilient-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';

type Failure = CacheEventMap['failure'][0];

function resilienceConfig(overrides: Partial<ResilienceConfig> = {}): ResilienceConfig {
  return {
    timeoutMs: 200,
    breakerThreshold: 3,
    breakerHalfOpenAfterMs: 1_000,
    invalidationAttempts: 3,
    invalidationBackoffMs: 50,
    ...overrides,
  };
}

function codeOf(error: unknown): string | undefined {
  return error instanceof CacheError ? error.code : undefined;
}

describe('ResilientStore', () => {
  let clock: sinon.SinonFakeTimers;
  let inner: MemoryStore;
  let chaos: ChaosStore;
  let events: CacheEvents;
  let failures: Failure[];
  let circuit: boolean[];
  let recoveries: string[];
  let operations: CacheEventMap['store-operation'][0][];

  function resilient(overrides: Partial<ResilienceConfig> = {}): ResilientStore {
    return new ResilientStore(chaos, events, resilienceConfig(overrides));
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    inner = new MemoryStore();
    chaos = new ChaosStore(inner);
    events = new CacheEvents();
    failures = [];
    circuit = [];
    recoveries = [];
    operations = [];
    events.on('failure', (failure) => failures.push(failure));
    events.on('circuit', ({ open }) => circuit.push(open));
    events.on('recovery', ({ operation }) => recoveries.push(operation));
    events.on('store-operation', (operation) => operations.push(operation));
  });

  afterEach(() => {
    clock.restore();
    sinon.restore();
  });

  it('exposes the store it wraps', () => {
    expect(resilient().store).to.equal(chaos);
  });

  describe('timeout', () => {
    it('turns a read slower than timeoutMs into a miss, reported as an E_STORE_TIMEOUT failure', async () => {
      await inner.set('k', Buffer.from('v'), { ttlMs: 60_000 });
      chaos.delay(1_000);
      const read = resilient().read('k');
      await clock.tickAsync(200);
      expect(await read).to.equal(undefined);
      expect(
        failures.map((failure) => [failure.operation, codeOf(failure.error), failure.key]),
      ).to.deep.equal([['get', 'E_STORE_TIMEOUT', 'k']]);
      expect(operations).to.have.lengthOf(1);
      expect(operations[0]).to.include({ operation: 'get', failed: true });
    });

    it('does not hold a request on a backend that never answers', async () => {
      chaos.hang();
      const store = resilient();
      const read = store.read('k');
      const write = store.write('k', Buffer.from('v'), { ttlMs: 1_000 });
      await clock.tickAsync(200);
      expect(await read).to.equal(undefined);
      expect(await write, 'the write did not land').to.equal('failed');
      expect(failures.map((failure) => codeOf(failure.error))).to.deep.equal([
        'E_STORE_TIMEOUT',
        'E_STORE_TIMEOUT',
      ]);
    });

    it('leaves a call that answers within timeoutMs alone', async () => {
      await inner.set('k', Buffer.from('v'), { ttlMs: 60_000 });
      chaos.delay(150);
      const read = resilient().read('k');
      await clock.tickAsync(150);
      expect((await read)?.toString()).to.equal('v');
      expect(failures).to.deep.equal([]);
      expect(operations[0]).to.include({ operation: 'get', failed: false });
    });
  });

  describe('failing open', () => {
    it('reads a failing backend as a miss and reports E_STORE_FAILED with the cause', async () => {
      const cause = new Error('ECONNREFUSED');
      chaos.alwaysThrow(cause);
      expect(await resilient().read('k')).to.equal(undefined);
      expect(failures).to.have.lengthOf(1);
      const error = failures[0]?.error as CacheError;
      expect(error.code).to.equal('E_STORE_FAILED');
      expect(error.cause).to.equal(cause);
      expect(error.message).to.contain('ECONNREFUSED');
    });

    it('reads many keys from a failing backend as one miss per key', async () => {
      chaos.alwaysThrow();
      expect(await resilient().readMany(['a', 'b', 'c'])).to.deep.equal([undefined, undefined, undefined]);
      expect(failures[0]?.operation).to.equal('get_many');
    });

    it('keeps what a getMany did read when only some keys failed (a Cluster master down), and reports it', async () => {
      const cause = new Error('connect ECONNREFUSED');
      sinon
        .stub(chaos, 'getMany')
        .rejects(new PartialReadError([Buffer.from('A'), undefined, Buffer.from('C')], cause));
      const values = await resilient().readMany(['a', 'b', 'c']);
      expect(values.map((value) => value?.toString())).to.deep.equal(['A', undefined, 'C']);
      expect(failures.map((failure) => [failure.operation, codeOf(failure.error)])).to.deep.equal([
        ['get_many', 'E_STORE_FAILED'],
      ]);
      expect(failures[0]?.error).to.have.property('message').that.contains('ECONNREFUSED');
    });

    it('forgets a failed write without throwing', async () => {
      chaos.alwaysThrow();
      await resilient().write('k', Buffer.from('v'), { ttlMs: 1_000 });
      expect(failures.map((failure) => failure.operation)).to.deep.equal(['set']);
    });

    it('tryRead tells a miss from a failed backend', async () => {
      const store = resilient();
      expect(await store.tryRead('k')).to.equal(undefined);
      chaos.alwaysThrow();
      expect(await store.tryRead('k')).to.equal('unavailable');
    });

    it('tryLock tells acquired, held elsewhere and unavailable apart', async () => {
      const store = resilient();
      expect(await store.tryLock('lock', 'a', 1_000)).to.equal('acquired');
      expect(await store.tryLock('lock', 'b', 1_000)).to.equal('held');
      chaos.alwaysThrow();
      expect(await store.tryLock('lock', 'b', 1_000)).to.equal('unavailable');
    });

    it('tryLeaseAndLockThenRead is one store call when the store has acquireLockAndGetWithLease', async () => {
      const store = new ResilientStore(inner, events, resilienceConfig());
      await inner.set('entry', Buffer.from('v'), { ttlMs: 60_000 });
      const first = await store.tryLeaseAndLockThenRead('lock', 'a', 60_000, 'entry');
      const second = await store.tryLeaseAndLockThenRead('lock', 'b', 60_000, 'entry');
      expect(first).to.deep.include({ lock: 'acquired', value: Buffer.from('v') });
      expect(second).to.deep.include({ lock: 'held' });
      // The application's own write counted as an invalidation: generation 1.
      expect(first.lease).to.deep.include({ generation: 1 });
      expect(second.lease, 'a lease whatever became of the lock').to.deep.include({ generation: 1 });
      expect(operations.map(({ operation }) => operation)).to.deep.equal(['lock_acquire', 'lock_acquire']);
    });

    it('tryLeaseAndLockThenRead reads the lease beside the lock when the store cannot do both at once', async () => {
      const store = resilient();
      const read = await store.tryLeaseAndLockThenRead('lock', 'a', 60_000, 'entry');
      expect(read).to.deep.include({ lock: 'acquired', value: undefined });
      expect(read.lease).to.deep.include({ generation: 0 });
      expect(operations.map(({ operation }) => operation).sort()).to.deep.equal([
        'get',
        'lease',
        'lock_acquire',
      ]);
    });

    it('tryLeaseAndLockThenRead leaves a load without lock and lease when the one call fails', async () => {
      const failing = new ChaosStore(inner).alwaysThrow();
      const combined = Object.assign(failing, {
        acquireLockAndGetWithLease: () =>
          failing.acquireLock('lock', 'a', 60_000).then(() => ({
            acquired: false as const,
            lease: { generation: 0, startedAtMs: 0 },
          })),
      });
      const store = new ResilientStore(combined, events, resilienceConfig());
      expect(await store.tryLeaseAndLockThenRead('lock', 'a', 60_000, 'entry')).to.deep.equal({
        lock: 'unavailable',
        lease: 'unavailable',
      });
      expect(failures.map((failure) => failure.operation)).to.deep.equal(['lock_acquire']);
    });

    it('unlock releases the lock, and a failed release is reported, not thrown', async () => {
      const store = resilient();
      await store.tryLock('lock', 'a', 60_000);
      await store.unlock('lock', 'a');
      expect(await store.tryLock('lock', 'b', 60_000)).to.equal('acquired');
      chaos.alwaysThrow();
      await store.unlock('lock', 'b');
      expect(failures.map((failure) => failure.operation)).to.deep.equal(['lock_release']);
    });
  });

  describe('circuit breaker', () => {
    /** Reads `k` `times` times, one after the other. */
    async function readTimes(store: ResilientStore, times: number): Promise<void> {
      for (let attempt = 0; attempt < times; attempt++) await store.read('k');
    }

    /** A store over a failing backend whose circuit (threshold 2, half-open after 1 s) two reads opened. */
    async function openedByTwoFailures(): Promise<ResilientStore> {
      chaos.alwaysThrow();
      const store = resilient({ breakerThreshold: 2, breakerHalfOpenAfterMs: 1_000 });
      await readTimes(store, 2);
      return store;
    }

    it('opens after breakerThreshold consecutive failures and then skips the backend', async () => {
      chaos.alwaysThrow();
      const store = resilient({ breakerThreshold: 3 });
      await readTimes(store, 3);
      expect(circuit).to.deep.equal([true]);
      expect(chaos.calls).to.have.lengthOf(3);

      expect(await store.read('k')).to.equal(undefined);
      expect(chaos.calls).to.have.lengthOf(3);
      expect(codeOf(failures.at(-1)?.error)).to.equal('E_CIRCUIT_OPEN');
      // A skipped call has no latency: only the three real calls were timed.
      expect(operations).to.have.lengthOf(3);
    });

    it('counts consecutive failures only: a success in between keeps it closed', async () => {
      const store = resilient({ breakerThreshold: 3 });
      chaos.failNext(2);
      await readTimes(store, 3);
      chaos.failNext(2);
      await readTimes(store, 2);
      expect(circuit).to.deep.equal([]);
      expect(chaos.calls).to.have.lengthOf(5);
    });

    it('lets one probe through after breakerHalfOpenAfterMs and closes again when it succeeds', async () => {
      const store = await openedByTwoFailures();
      chaos.heal();

      await clock.tickAsync(999);
      await store.read('k');
      expect(chaos.calls).to.have.lengthOf(2);

      await clock.tickAsync(1);
      await inner.set('k', Buffer.from('back'), { ttlMs: 60_000 });
      expect((await store.read('k'))?.toString()).to.equal('back');
      expect(chaos.calls).to.have.lengthOf(3);
      expect(circuit).to.deep.equal([true, false]);
      expect(recoveries).to.deep.equal(['get']);

      await store.read('k');
      expect(chaos.calls).to.have.lengthOf(4);
    });

    it('stays open for another period when the probe fails, without announcing a second opening', async () => {
      const store = await openedByTwoFailures();
      await clock.tickAsync(1_000);
      await store.read('k');
      expect(chaos.calls).to.have.lengthOf(3);
      await store.read('k');
      expect(chaos.calls).to.have.lengthOf(3);
      expect(circuit).to.deep.equal([true]);
    });

    it('never opens with breakerThreshold 0', async () => {
      chaos.alwaysThrow();
      const store = resilient({ breakerThreshold: 0 });
      await readTimes(store, 10);
      expect(chaos.calls).to.have.lengthOf(10);
      expect(circuit).to.deep.equal([]);
    });

    it('counts timeouts as failures', async () => {
      chaos.hang();
      const store = resilient({ breakerThreshold: 2, timeoutMs: 100 });
      for (let attempt = 0; attempt < 2; attempt++) {
        const read = store.read('k');
        await clock.tickAsync(100);
        await read;
      }
      expect(circuit).to.deep.equal([true]);
    });
  });

  describe('recovery', () => {
    it('reports recovery once, on the first success after failures', async () => {
      const store = resilient({ breakerThreshold: 0 });
      await store.read('k');
      chaos.failNext(2);
      await store.read('k');
      await store.write('k', Buffer.from('v'), { ttlMs: 1_000 });
      await store.read('k');
      await store.read('k');
      expect(recoveries).to.deep.equal(['get']);
    });
  });

  describe('invalidations', () => {
    beforeEach(() => {
      // cockatiel jitters the backoff with Math.random; pin it so the first pause is never 0 ms.
      sinon.stub(Math, 'random').returns(0.5);
    });

    it('retries a failed invalidation after a pause and resolves when an attempt succeeds', async () => {
      await inner.set('k', Buffer.from('v'), { ttlMs: 60_000 });
      chaos.failNext(2);
      const store = resilient({ breakerThreshold: 0 });
      const deletion = store.invalidate('delete', (backend) => backend.delete(['k']));

      await clock.tickAsync(0);
      expect(chaos.calls).to.have.lengthOf(1);
      await clock.tickAsync(10_000);

      expect(await deletion).to.equal(1);
      expect(chaos.calls).to.have.lengthOf(3);
      expect(recoveries).to.deep.equal(['delete']);
    });

    it('rejects with E_INVALIDATION_FAILED after invalidationAttempts, keeping the cause', async () => {
      const cause = new Error('READONLY You cannot write against a read only replica');
      chaos.alwaysThrow(cause);
      const store = resilient({ breakerThreshold: 0, invalidationAttempts: 3 });
      const settled = store
        .invalidate('delete_tagged', (backend) => backend.deleteTagged(['tag']))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      await clock.tickAsync(10_000);
      const error = await settled;

      expect(error).to.be.instanceOf(CacheError);
      expect((error as CacheError).code).to.equal('E_INVALIDATION_FAILED');
      expect((error as CacheError).message).to.contain('delete_tagged');
      const storeError = (error as CacheError).cause as CacheError;
      expect(storeError.code).to.equal('E_STORE_FAILED');
      expect(storeError.cause).to.equal(cause);
      expect(chaos.calls).to.have.lengthOf(3);
    });

    it('does not retry with invalidationAttempts 1', async () => {
      chaos.alwaysThrow();
      const store = resilient({ invalidationAttempts: 1 });
      const error = await rejectionOf(store.invalidate('delete', (backend) => backend.delete(['k'])));
      expect(codeOf(error)).to.equal('E_INVALIDATION_FAILED');
      expect(chaos.calls).to.have.lengthOf(1);
    });

    it('rejects at once while the circuit is open, without calling the backend', async () => {
      chaos.alwaysThrow();
      const store = resilient({ breakerThreshold: 1, invalidationAttempts: 1 });
      await store.read('k');
      const error = await rejectionOf(store.invalidate('delete', (backend) => backend.delete(['k'])));
      expect(codeOf(error)).to.equal('E_INVALIDATION_FAILED');
      expect(codeOf((error as CacheError).cause)).to.equal('E_CIRCUIT_OPEN');
      expect(chaos.calls).to.have.lengthOf(1);
    });
  });

  describe('command', () => {
    it('resolves with the backend answer', async () => {
      await inner.set('k', Buffer.from('v'), { ttlMs: 60_000 });
      const store = resilient();
      expect(await store.command('expire', (backend) => backend.expire('k', 10))).to.equal(true);
      expect(await store.command('ttl', (backend) => backend.ttlSeconds('missing'))).to.equal(-2);
    });

    it('rejects with the coded failure, once, without retrying', async () => {
      chaos.alwaysThrow();
      const error = await resilient()
        .command('expire', (backend) => backend.expire('k', 10))
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(codeOf(error)).to.equal('E_STORE_FAILED');
      expect(chaos.calls).to.have.lengthOf(1);
      expect(failures.map((failure) => failure.operation)).to.deep.equal(['expire']);
    });
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import type { CacheBackend } from '../../../src/engine/cache-backend.js';
import { ReplayGate } from '../../../src/engine/replay-gate.js';

const LEASE = { generation: 1, startedAtMs: 0 };
const RENEWAL = {
  offset: 0,
  expected: Buffer.alloc(0),
  times: Buffer.alloc(0),
  ttlMs: 1000,
  tagKeys: [],
  lease: LEASE,
};

/** A backend whose every method answers `'from the store'`, so a forwarded call shows in the answer. */
function recordingBackend() {
  const answer = sinon.stub().resolves('from the store');
  const backend = {
    unreachable: false,
    read: answer,
    readMany: answer,
    tryRead: answer,
    write: answer,
    renew: answer,
    tryReadLease: answer,
    tryLock: answer,
    tryLockThenRead: answer,
    tryLeaseAndLockThenRead: answer,
    unlock: answer,
    invalidate: answer,
    command: answer,
  };
  return { backend: backend as unknown as CacheBackend & { unreachable: boolean }, answer };
}

/** Each call, and what it gives while invalidations wait (`'from the store'`: it goes through). */
const CALLS: { name: string; call: (gate: ReplayGate) => Promise<unknown>; whilePending: unknown }[] = [
  { name: 'read', call: (gate) => gate.read('k'), whilePending: undefined },
  { name: 'readMany', call: (gate) => gate.readMany(['a', 'b']), whilePending: [undefined, undefined] },
  { name: 'tryRead', call: (gate) => gate.tryRead('k'), whilePending: 'unavailable' },
  {
    name: 'write',
    call: (gate) => gate.write('k', Buffer.from('v'), { ttlMs: 1000 }),
    whilePending: 'failed',
  },
  { name: 'renew', call: (gate) => gate.renew('k', RENEWAL), whilePending: 'failed' },
  { name: 'tryReadLease', call: (gate) => gate.tryReadLease(), whilePending: 'unavailable' },
  { name: 'tryLock', call: (gate) => gate.tryLock('l', 't', 1000), whilePending: 'unavailable' },
  {
    name: 'tryLockThenRead',
    call: (gate) => gate.tryLockThenRead('l', 't', 1000, 'k'),
    whilePending: { lock: 'unavailable' },
  },
  {
    name: 'tryLeaseAndLockThenRead',
    call: (gate) => gate.tryLeaseAndLockThenRead('l', 't', 1000, 'k'),
    whilePending: { lock: 'unavailable', lease: 'unavailable' },
  },
  // Releasing a lock taken before, deleting and administering are no reads of what may be stale.
  { name: 'unlock', call: (gate) => gate.unlock('l', 't'), whilePending: 'from the store' },
  {
    name: 'invalidate',
    call: (gate) => gate.invalidate('delete', async () => 1),
    whilePending: 'from the store',
  },
  { name: 'command', call: (gate) => gate.command('ttl', async () => 1), whilePending: 'from the store' },
];

describe('ReplayGate (the store as lookups see it while invalidations wait)', () => {
  for (const { name, call, whilePending } of CALLS) {
    it(`${name}: ${whilePending === 'from the store' ? 'goes through' : 'answers as an unreachable store would'} while invalidations wait, and goes through once none does`, async () => {
      const { backend, answer } = recordingBackend();
      const queue = { pending: true };
      const gate = new ReplayGate(backend, queue);
      expect(await call(gate)).to.deep.equal(whilePending);
      expect(answer.callCount).to.equal(whilePending === 'from the store' ? 1 : 0);
      queue.pending = false;
      answer.resetHistory();
      expect(await call(gate)).to.equal('from the store');
      expect(answer.callCount).to.equal(1);
    });
  }

  it('is unreachable while invalidations wait, and as the store is once none does', () => {
    const { backend } = recordingBackend();
    const queue = { pending: true };
    const gate = new ReplayGate(backend, queue);
    expect(gate.unreachable).to.equal(true);
    queue.pending = false;
    expect(gate.unreachable).to.equal(false);
    backend.unreachable = true;
    expect(gate.unreachable).to.equal(true);
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { CacheError } from '../../../src/errors.js';
import { isCircuitOpenError } from '../../../src/store/circuit-breaker.js';
import { type NodeCircuitChange, NodeCircuits } from '../../../src/store/node-circuits.js';
import { rejectionOf } from '../../support/rejection-of.js';

describe('NodeCircuits', () => {
  let clock: sinon.SinonFakeTimers;
  let changes: NodeCircuitChange[];
  const down = () => Promise.reject(new Error('connect ECONNREFUSED'));
  const up = () => Promise.resolve('ok');

  function circuits(threshold = 2): NodeCircuits {
    return new NodeCircuits(
      { timeoutMs: 200, breakerThreshold: threshold, breakerHalfOpenAfterMs: 1_000 },
      (change) => changes.push(change),
    );
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    changes = [];
  });

  afterEach(() => clock.restore());

  it("opens one node's circuit after its outages, and leaves the other nodes' calls alone", async () => {
    const nodes = circuits();
    await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
    await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
    expect(changes).to.deep.equal([{ open: true, node: '10.0.0.1:6379' }]);

    const skipped = sinon.spy(up);
    expect(
      isCircuitOpenError(await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', skipped))),
    ).to.equal(true);
    expect(skipped.called, 'the open node is not called').to.equal(false);
    expect(await nodes.runOn('10.0.0.2:6379', 'GET', up), 'another node is').to.equal('ok');
  });

  it('counts outages per node: failures spread over two nodes open neither', async () => {
    const nodes = circuits();
    await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
    await rejectionOf(() => nodes.runOn('10.0.0.2:6379', 'GET', down));
    expect(changes).to.deep.equal([]);
  });

  it('closes a node’s circuit when a probe to it succeeds, and says which node', async () => {
    const nodes = circuits(1);
    await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
    clock.tick(1_000);
    expect(await nodes.runOn('10.0.0.1:6379', 'GET', up)).to.equal('ok');
    expect(changes).to.deep.equal([
      { open: true, node: '10.0.0.1:6379' },
      { open: false, node: '10.0.0.1:6379' },
    ]);
  });

  it('bounds each call by timeoutMs, naming the command and the node', async () => {
    const nodes = circuits();
    const rejection = rejectionOf(() =>
      nodes.runOn('10.0.0.1:6379', 'GET', () => new Promise<never>(() => undefined)),
    );
    await clock.tickAsync(200);
    const error = await rejection;
    expect(error).to.be.instanceOf(CacheError).with.property('code', 'E_STORE_TIMEOUT');
    expect((error as Error).message).to.equal('GET to 10.0.0.1:6379 took longer than 200 ms');
  });

  it('lets a whole call of the store through: each of its commands passes its own node’s circuit', async () => {
    const nodes = circuits(1);
    await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
    const task = sinon.spy(up);
    expect(await nodes.run('get', task)).to.equal('ok');
    expect(task.calledOnce).to.equal(true);
  });

  describe('after a change of topology (retain)', () => {
    it('forgets the circuit of a node that left, reporting it closed if it was open', async () => {
      const nodes = circuits(1);
      await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
      await nodes.runOn('10.0.0.2:6379', 'GET', up);
      nodes.retain(new Set(['10.0.0.2:6379', '10.0.0.3:6379']));
      expect(changes).to.deep.equal([
        { open: true, node: '10.0.0.1:6379' },
        { open: false, node: '10.0.0.1:6379' },
      ]);
      // Were it to come back (a failback), it starts with a closed circuit of its own.
      expect(await nodes.runOn('10.0.0.1:6379', 'GET', up)).to.equal('ok');
    });

    it('keeps the circuits of nodes still in the topology, open ones open', async () => {
      const nodes = circuits(1);
      await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
      nodes.retain(new Set(['10.0.0.1:6379', '10.0.0.2:6379']));
      expect(changes).to.have.length(1);
      expect(isCircuitOpenError(await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', up)))).to.equal(
        true,
      );
    });

    it('ignores what a forgotten circuit hears afterwards: a probe still under way does not report it', async () => {
      const nodes = circuits(1);
      await rejectionOf(() => nodes.runOn('10.0.0.1:6379', 'GET', down));
      clock.tick(1_000);
      let answer: (value: string) => void = () => undefined;
      const probe = nodes.runOn(
        '10.0.0.1:6379',
        'GET',
        () => new Promise<string>((resolve) => (answer = resolve)),
      );
      nodes.retain(new Set(['10.0.0.2:6379']));
      answer('ok');
      expect(await probe).to.equal('ok');
      expect(changes).to.deep.equal([
        { open: true, node: '10.0.0.1:6379' },
        { open: false, node: '10.0.0.1:6379' },
      ]);
    });
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { CircuitBreaker, isCircuitOpenError, isOutage } from '../../../src/store/circuit-breaker.js';
import { rejectionOf } from '../../support/rejection-of.js';

class ErrorReply extends Error {}

describe('CircuitBreaker', () => {
  let clock: sinon.SinonFakeTimers;
  let changes: boolean[];
  const down = () => Promise.reject(new Error('ECONNREFUSED'));
  const up = () => Promise.resolve('ok');

  function breaker(threshold = 2): CircuitBreaker {
    return new CircuitBreaker({ threshold, halfOpenAfterMs: 1_000 }, (open) => changes.push(open));
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    changes = [];
  });

  afterEach(() => clock.restore());

  it('opens after `threshold` consecutive outages and then refuses calls without running them', async () => {
    const circuit = breaker();
    await rejectionOf(() => circuit.execute(down));
    await rejectionOf(() => circuit.execute(down));
    const task = sinon.spy(up);
    expect(isCircuitOpenError(await rejectionOf(() => circuit.execute(task)))).to.equal(true);
    expect(task.called).to.equal(false);
    expect(changes).to.deep.equal([true]);
  });

  it('does not count error replies: a Redis that answers is not down', async () => {
    const circuit = breaker();
    for (let i = 0; i < 3; i++)
      await rejectionOf(() => circuit.execute(() => Promise.reject(new ErrorReply())));
    expect(await circuit.execute(up)).to.equal('ok');
    expect(changes).to.deep.equal([]);
  });

  it('refuses other calls while the half-open probe is under way, and closes when it succeeds', async () => {
    const circuit = breaker();
    await rejectionOf(() => circuit.execute(down));
    await rejectionOf(() => circuit.execute(down));
    await clock.tickAsync(1_000);
    let answer: (value: string) => void = () => undefined;
    const probe = circuit.execute(() => new Promise<string>((resolve) => (answer = resolve)));
    expect(isCircuitOpenError(await rejectionOf(() => circuit.execute(up)))).to.equal(true);
    answer('ok');
    expect(await probe).to.equal('ok');
    expect(await circuit.execute(up)).to.equal('ok');
    expect(changes).to.deep.equal([true, false]);
  });

  it('reports one opening and one closing per outage, however many probes fail in between', async () => {
    const circuit = breaker();
    await rejectionOf(() => circuit.execute(down));
    await rejectionOf(() => circuit.execute(down));
    for (let probe = 0; probe < 3; probe++) {
      await clock.tickAsync(1_000);
      await rejectionOf(() => circuit.execute(down));
    }
    expect(changes).to.deep.equal([true]);
    await clock.tickAsync(1_000);
    expect(await circuit.execute(up)).to.equal('ok');
    // A second outage is a second opening.
    await rejectionOf(() => circuit.execute(down));
    await rejectionOf(() => circuit.execute(down));
    expect(changes).to.deep.equal([true, false, true]);
  });

  it('never opens with threshold 0', async () => {
    const circuit = breaker(0);
    for (let i = 0; i < 5; i++) await rejectionOf(() => circuit.execute(down));
    expect(await circuit.execute(up)).to.equal('ok');
    expect(changes).to.deep.equal([]);
  });
});

describe('isOutage', () => {
  it('is true for timeouts and connection errors, false for error replies of any copy of the client', () => {
    expect(isOutage(new Error('Socket closed unexpectedly'))).to.equal(true);
    expect(isOutage(new ErrorReply('OOM command not allowed'))).to.equal(false);
    class ReplyError extends Error {}
    expect(isOutage(new ReplyError('READONLY'))).to.equal(false);
  });
});

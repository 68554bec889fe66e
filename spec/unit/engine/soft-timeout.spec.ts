import { expect } from 'chai';
import sinon from 'sinon';
import { withSoftTimeout } from '../../../src/engine/soft-timeout.js';

/** A task that resolves with `value` after `ms` (on the fake clock). */
function resolvesAfter(ms: number, value: string): Promise<string> {
  return new Promise<string>((resolve) => setTimeout(resolve, ms, value));
}

describe('withSoftTimeout', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });

  afterEach(() => {
    clock.restore();
  });

  it('resolves with the task result when it comes in time', async () => {
    const waited = withSoftTimeout(resolvesAfter(50, 'done'), 100);
    await clock.tickAsync(50);
    expect(await waited).to.equal('done');
  });

  it('resolves to undefined when time runs out, and the task goes on', async () => {
    const task = resolvesAfter(500, 'late');
    const waited = withSoftTimeout(task, 100);
    await clock.tickAsync(100);
    expect(await waited).to.equal(undefined);
    await clock.tickAsync(400);
    expect(await task).to.equal('late');
  });

  it('passes the task rejection on when it comes in time', async () => {
    const failure = new Error('loader failed');
    const outcome = await withSoftTimeout(Promise.reject(failure), 100).catch((error: unknown) => error);
    expect(outcome).to.equal(failure);
  });

  it('waits without limit with a timeout of 0', async () => {
    const waited = withSoftTimeout(resolvesAfter(60_000, 'slow'), 0);
    await clock.tickAsync(60_000);
    expect(await waited).to.equal('slow');
  });

  it('leaves no timer behind', async () => {
    await withSoftTimeout(Promise.resolve(1), 1_000);
    expect(clock.countTimers()).to.equal(0);
  });
});

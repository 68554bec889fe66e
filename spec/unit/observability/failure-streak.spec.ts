import { expect } from 'chai';
import sinon from 'sinon';
import { FailureStreak } from '../../../src/observability/failure-streak.js';

describe('FailureStreak', () => {
  afterEach(() => sinon.restore());

  it('says only the first failure starts a streak', () => {
    const streak = new FailureStreak();
    expect([streak.fail(), streak.fail(), streak.fail()]).to.deep.equal([true, false, false]);
    expect(streak.failures).to.equal(3);
  });

  it('ends with the number of failures and the time since the first, then starts afresh', () => {
    const clock = sinon.useFakeTimers({ now: 1_000, toFake: ['Date'] });
    const streak = new FailureStreak();
    streak.fail();
    clock.tick(2_500);
    streak.fail();
    expect(streak.end()).to.deep.equal({ failures: 2, durationSeconds: 2.5 });
    expect(streak.failures).to.equal(0);
    expect(streak.fail()).to.equal(true);
  });

  it('has nothing to end when nothing failed', () => {
    expect(new FailureStreak().end()).to.equal(undefined);
  });
});

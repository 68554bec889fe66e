import { expect } from 'chai';
import sinon from 'sinon';
import { FailureStreak, GroupedFailureStreaks } from '../../../src/observability/failure-streak.js';

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

describe('GroupedFailureStreaks', () => {
  it('keeps the streaks of groups apart: one group recovering does not end another’s', () => {
    const streaks = new GroupedFailureStreaks(10, '<shared>');
    expect(streaks.fail('/reports')).to.deep.equal({ group: '/reports', starts: true, failures: 1 });
    expect(streaks.fail('/news')).to.deep.equal({ group: '/news', starts: true, failures: 1 });
    expect(streaks.fail('/reports')).to.deep.equal({ group: '/reports', starts: false, failures: 2 });
    expect(streaks.end('/items')).to.equal(undefined);
    expect(streaks.end('/news')).to.include({ group: '/news', failures: 1 });
    expect(streaks.fail('/reports')).to.include({ starts: false, failures: 3 });
    expect(streaks.end('/reports')).to.include({ group: '/reports', failures: 3 });
    expect(streaks.end('/reports')).to.equal(undefined);
  });

  it('counts the failures of groups beyond its bound in one shared streak, which their successes end', () => {
    const streaks = new GroupedFailureStreaks(2, '<shared>');
    streaks.fail('a');
    streaks.fail('b');
    expect(streaks.fail('c')).to.deep.equal({ group: '<shared>', starts: true, failures: 1 });
    expect(streaks.fail('d')).to.deep.equal({ group: '<shared>', starts: false, failures: 2 });
    // Groups held apart keep their own streak.
    expect(streaks.fail('a')).to.include({ group: 'a', failures: 2 });
    expect(streaks.end('d')).to.include({ group: '<shared>', failures: 2 });
    expect(streaks.end('a')).to.include({ group: 'a', failures: 2 });
    // A group ended makes room again.
    expect(streaks.fail('c')).to.include({ group: 'c', starts: true });
  });
});

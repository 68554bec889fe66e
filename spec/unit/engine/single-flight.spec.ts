import { expect } from 'chai';
import { SingleFlight } from '../../../src/engine/single-flight.js';
import { deferred } from '../../support/deferred.js';

describe('SingleFlight', () => {
  it('runs one task per key and shares its result with every caller that joins', async () => {
    const flights = new SingleFlight<string>();
    const load = deferred<string>();
    let runs = 0;
    const task = () => {
      runs++;
      return load.promise;
    };
    const first = flights.run('k', task);
    const second = flights.run('k', task);
    const third = flights.run('k', task);
    expect([first.joined, second.joined, third.joined]).to.deep.equal([false, true, true]);
    load.resolve('value');
    expect(await Promise.all([first.promise, second.promise, third.promise])).to.deep.equal([
      'value',
      'value',
      'value',
    ]);
    expect(runs).to.equal(1);
  });

  it('shares a rejection with every caller', async () => {
    const flights = new SingleFlight<string>();
    const load = deferred<string>();
    const first = flights.run('k', () => load.promise);
    const second = flights.run('k', () => load.promise);
    const failure = new Error('loader failed');
    load.reject(failure);
    const outcomes = await Promise.allSettled([first.promise, second.promise]);
    expect(outcomes).to.deep.equal([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });

  it('frees the key once the task settled, so the next call runs a new task', async () => {
    const flights = new SingleFlight<number>();
    await flights.run('k', async () => 1).promise;
    expect(flights.has('k')).to.equal(false);
    await flights.run('k', async () => Promise.reject(new Error('no'))).promise.catch(() => undefined);
    expect(flights.size).to.equal(0);
    const next = flights.run('k', async () => 2);
    expect(next.joined).to.equal(false);
    expect(await next.promise).to.equal(2);
  });

  it('keeps keys apart', async () => {
    const flights = new SingleFlight<string>();
    const a = flights.run('a', async () => 'A');
    const b = flights.run('b', async () => 'B');
    expect(flights.size).to.equal(2);
    expect(flights.has('a')).to.equal(true);
    expect([a.joined, b.joined]).to.deep.equal([false, false]);
    expect(await Promise.all([a.promise, b.promise])).to.deep.equal(['A', 'B']);
  });
});

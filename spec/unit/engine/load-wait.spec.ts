import { expect } from 'chai';
import sinon from 'sinon';
import { deferred } from '../../support/deferred.js';
import { makeCache } from './make-cache.js';

describe('waiting for a load another call runs (loadWaitMs)', () => {
  afterEach(() => sinon.restore());

  it('shares the load while it finishes within the bound', async () => {
    const cache = makeCache({ loadWaitMs: 5_000 });
    const shared = deferred<string>();
    const leader = cache.get('k', () => shared.promise);
    const ownLoader = sinon.spy(() => 'own');
    const waiter = cache.lookup('k', ownLoader);
    shared.resolve('shared');
    expect(await leader).to.equal('shared');
    const outcome = await waiter;
    expect([outcome.value, outcome.coalesced, ownLoader.callCount]).to.deep.equal(['shared', true, 0]);
  });

  it('loads for itself once the shared load outlasts the bound, and stores its own value', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const cache = makeCache({ loadWaitMs: 300 });
    const shared = deferred<string>();
    const leader = cache.get('k', () => shared.promise);
    const ownLoader = sinon.spy(() => 'own');
    const waiter = cache.lookup('k', ownLoader);
    await clock.tickAsync(299);
    expect(ownLoader.callCount, 'still within the bound').to.equal(0);
    await clock.tickAsync(1);
    const outcome = await waiter;
    expect([outcome.value, outcome.coalesced, ownLoader.callCount]).to.deep.equal(['own', false, 1]);
    expect(await cache.get('k', () => 'never')).to.equal('own');
    shared.resolve('late');
    expect(await leader).to.equal('late');
  });

  it('rejects loadWaitMs that is not a positive number', () => {
    expect(() => makeCache({ loadWaitMs: 0 })).to.throw(TypeError, /loadWaitMs/);
    expect(() => makeCache({ loadWaitMs: -1 })).to.throw(TypeError, /loadWaitMs/);
  });
});

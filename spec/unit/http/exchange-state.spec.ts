import { expect } from 'chai';
import { checkedTransition, type ExchangeState } from '../../../src/http/exchange-state.js';

const cacheStatus = { fwd: 'uri-miss' as const };
const arrived: ExchangeState = { name: 'arrived' };
const lookingUp: ExchangeState = { name: 'looking-up', varyMiss: false };
const running: ExchangeState = { name: 'running-handler', cacheStatus };
const replayed: ExchangeState = { name: 'replayed', cacheStatus: { hit: true } };
const notStored: ExchangeState = { name: 'not-stored', reason: 'too-large', cacheStatus };

describe('request exchange states', () => {
  it('lets a request go from looking up to a replay, and from running the handler to not stored', () => {
    expect(checkedTransition(arrived, lookingUp)).to.equal(lookingUp);
    expect(checkedTransition(lookingUp, replayed)).to.equal(replayed);
    expect(checkedTransition(running, notStored)).to.equal(notStored);
  });

  it('throws on a transition the lifecycle does not have, naming both states', () => {
    expect(() => checkedTransition(replayed, running)).to.throw(/replayed to running-handler/);
    expect(() => checkedTransition(arrived, replayed)).to.throw(/arrived to replayed/);
    expect(() => checkedTransition(notStored, running)).to.throw(/not-stored to running-handler/);
  });
});

import { expect } from 'chai';
import { keySlot } from '../../../src/keys/key-slot.js';
import { StampKeys } from '../../../src/store/stamp-keys.js';

describe('StampKeys', () => {
  it('keeps one pattern stamp per slot, or one in all when the namespace has a hash tag', () => {
    const perSlot = new StampKeys('shop:__ca:');
    expect(perSlot.patterns([0, 1, 2])).to.have.lengthOf(3);
    expect(keySlot(perSlot.pattern(1234))).to.equal(1234);
    expect(perSlot.pattern(undefined)).to.equal('shop:__ca:pattern');
    const tagged = new StampKeys('{shop}:__ca:');
    expect(tagged.patterns([0, 1, 2])).to.deep.equal(['{shop}:__ca:pattern']);
  });
});

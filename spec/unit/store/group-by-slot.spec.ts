import { expect } from 'chai';
import { groupBySlot } from '../../../src/store/group-by-slot.js';

describe('groupBySlot', () => {
  it('computes the slots Redis computes (CLUSTER KEYSLOT)', () => {
    expect(groupBySlot(['foo', 'somekey']).map((group) => group.slot)).to.deep.equal([12182, 11058]);
  });

  it('groups keys of one slot together, in order of first appearance, with their positions', () => {
    const groups = groupBySlot(['foo', 'somekey', 'foo', '{foo}:b']);
    expect(groups).to.deep.equal([
      { slot: 12182, keys: ['foo', 'foo', '{foo}:b'], indices: [0, 2, 3] },
      { slot: 11058, keys: ['somekey'], indices: [1] },
    ]);
  });

  it('hashes only the first non-empty {hash tag}, as Redis does', () => {
    const [tagged, ...rest] = groupBySlot(['{user1000}.following', '{user1000}.followers', 'user1000']);
    expect(rest).to.deep.equal([]);
    expect(tagged?.slot).to.equal(3443);
    // An empty tag `{}` does not count: the whole key is hashed.
    expect(groupBySlot(['{}foo'])[0]?.slot).to.not.equal(groupBySlot(['foo'])[0]?.slot);
  });

  it('answers no groups for no keys', () => {
    expect(groupBySlot([])).to.deep.equal([]);
  });
});

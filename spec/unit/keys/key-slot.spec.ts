import { expect } from 'chai';
import { keySlot } from '../../../src/keys/key-slot.js';

describe('keySlot', () => {
  it("gives Redis Cluster's slots for the examples of its specification", () => {
    // CRC16("123456789") is 0x31C3 in the cluster specification; the others are CLUSTER KEYSLOT answers.
    expect(keySlot('123456789')).to.equal(0x31c3);
    expect(keySlot('foo')).to.equal(12182);
    expect(keySlot('{user1000}.following')).to.equal(keySlot('user1000'));
    expect(keySlot('{user1000}.followers')).to.equal(keySlot('user1000'));
  });

  it('hashes the whole key when its first braces are empty, as Redis does (not the next pair)', () => {
    expect(keySlot('foo{}{bar}')).to.not.equal(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).to.equal(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).to.equal(keySlot('bar'));
  });

  it('hashes the UTF-8 bytes of the key', () => {
    expect(keySlot('{é}x')).to.equal(keySlot('é'));
    expect(keySlot('é')).to.not.equal(keySlot('e'));
  });
});

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

  it('hashes what Buffer.from would encode: 1- to 4-byte characters, and a lone surrogate as U+FFFD', () => {
    // The CRC16 of the spec, bit by bit over the encoded bytes: a reference that shares nothing with keySlot.
    const crc16 = (bytes: Uint8Array) => {
      let crc = 0;
      for (const byte of bytes) {
        crc ^= byte << 8;
        for (let bit = 0; bit < 8; bit++)
          crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
      }
      return crc;
    };
    const reference = (key: string) => {
      const bytes = Buffer.from(key, 'utf8');
      const open = bytes.indexOf(0x7b);
      const close = bytes.indexOf(0x7d, open + 1);
      const tagged = open !== -1 && close > open + 1;
      return crc16(tagged ? bytes.subarray(open + 1, close) : bytes) % 16_384;
    };
    const pieces = ['a', 'Z', '{', '}', ':', 'é', 'ß', '€', '中', '😀', '\ud800', '\udc00', '\uffff'];
    let seed = 1;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 5_000; n++) {
      const key = Array.from({ length: next() % 9 }, () => pieces[next() % pieces.length]).join('');
      expect(keySlot(key), JSON.stringify(key)).to.equal(reference(key));
    }
    expect(keySlot('\ud800')).to.equal(keySlot('\ufffd'));
  });
});

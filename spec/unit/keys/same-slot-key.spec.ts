import { expect } from 'chai';
import fc from 'fast-check';
import { keySlot } from '../../../src/keys/key-slot.js';
import { isClusterSafePrefix, keyInSlot, sameSlotKey } from '../../../src/keys/same-slot-key.js';

// Keys made of characters that matter to Redis's hash tags, and a few others.
const keyText = fc.string({ unit: fc.constantFrom('{', '}', 'a', 'b', ':', '/', '?', 'é'), maxLength: 12 });
const safePrefix = fc.oneof(
  fc.constantFrom('', 'shop:', 'a:b:'),
  fc.string({ unit: fc.constantFrom('a', 'b', ':'), minLength: 1, maxLength: 4 }).map((tag) => `{${tag}}:`),
);

describe('sameSlotKey', () => {
  it('names a key in the Cluster slot of any key a cache may write, braces or not (property)', () => {
    fc.assert(
      fc.property(safePrefix, keyText, (prefix, key) => {
        const entryKey = prefix + key;
        const companion = sameSlotKey(`${prefix}__ca:stamp:`, entryKey);
        expect(companion.startsWith(`${prefix}__ca:stamp:`), companion).to.equal(true);
        expect(keySlot(companion), companion).to.equal(keySlot(entryKey));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps a brace-free key readable: its whole text becomes the hash tag', () => {
    expect(sameSlotKey('shop:__ca:lock:', 'shop:user:1')).to.equal('shop:__ca:lock:{shop:user:1}');
  });

  it('names a key in any slot asked for', () => {
    for (const slot of [0, 1, 8_191, 16_383]) expect(keySlot(keyInSlot('p:', slot))).to.equal(slot);
  });
});

describe('isClusterSafePrefix', () => {
  it('accepts prefixes without braces or with one whole hash tag, and refuses stray braces', () => {
    const verdicts = ['', 'shop:', '{shop}:', 'a{b}c:', 'a{b', 'a}b', '{}x:', 'x{:'].map((prefix) => [
      prefix,
      isClusterSafePrefix(prefix),
    ]);
    expect(verdicts).to.deep.equal([
      ['', true],
      ['shop:', true],
      ['{shop}:', true],
      ['a{b}c:', true],
      ['a{b', false],
      ['a}b', false],
      ['{}x:', false],
      ['x{:', false],
    ]);
  });
});

import { expect } from 'chai';
import { KeySpace } from '../../../src/engine/key-space.js';
import { keySlot } from '../../../src/keys/key-slot.js';

describe('KeySpace', () => {
  describe('lockKey', () => {
    it('names the lock after the entry, under the reserved prefix', () => {
      expect(new KeySpace('shop:').lockKey('/api/items/1')).to.equal('shop:__ca:lock:{shop:/api/items/1}');
    });

    // Taking the lock and re-reading the entry is one script only when both keys share a Cluster slot.
    for (const [prefix, key] of [
      ['shop:', '/api/items/1?color=red'],
      ['shop:', 'user:42'],
      ['{shop}:', 'user:42'],
      ['shop:', '{user:42}:profile'],
      ['', 'plain'],
    ] as const) {
      it(`puts the lock in the entry's hash slot (prefix ${JSON.stringify(prefix)}, key ${JSON.stringify(key)})`, () => {
        const keys = new KeySpace(prefix);
        const lockKey = keys.lockKey(key);
        expect(lockKey.startsWith(keys.reservedPrefix)).to.equal(true);
        expect(keySlot(lockKey)).to.equal(keySlot(keys.entryKey(key)));
      });
    }

    it('keeps the locks of different keys apart', () => {
      const keys = new KeySpace('shop:');
      expect(keys.lockKey('a')).to.not.equal(keys.lockKey('b'));
      expect(keys.lockKey('{a}b')).to.not.equal(keys.lockKey('{a}c'));
    });
  });
});

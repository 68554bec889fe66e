import { expect } from 'chai';
import { KeySpace } from '../../../src/engine/key-space.js';
import { CacheOptionError } from '../../../src/errors.js';
import { compileGlob } from '../../../src/keys/glob-match.js';
import { keySlot } from '../../../src/keys/key-slot.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

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

  describe('with a version', () => {
    const [v1, v2, unversioned] = [
      new KeySpace('shop:', '1.0.0'),
      new KeySpace('shop:', '1.1.0'),
      new KeySpace('shop:'),
    ];

    it('puts entries of each version under the reserved prefix, behind a segment of fixed width', () => {
      const [key1, key2] = [v1.entryKey('user:1'), v2.entryKey('user:1')];
      expect(key1).to.match(/^shop:__ca:v:[0-9a-f]{12}:user:1$/);
      expect(key2).to.match(/^shop:__ca:v:[0-9a-f]{12}:user:1$/);
      expect(key1).to.not.equal(key2);
      expect(new KeySpace('shop:', '1.0.0').entryKey('user:1')).to.equal(key1);
      // No unversioned key can ever name it: unversioned keys may not enter the reserved prefix.
      expect(unversioned.entryKey('user:1')).to.equal('shop:user:1');
      expect(() => unversioned.entryKey(key1.slice('shop:'.length))).to.throw(CacheOptionError);
    });

    it("keeps the version-free indexes: tags, and one set per key listing the key's entries", () => {
      expect(v1.tagKey('items')).to.equal(v2.tagKey('items'));
      expect(v1.versionIndexOf(v1.entryKey('user:1'))).to.deep.equal(['shop:__ca:versions:user:1']);
      expect(v2.versionIndexOf(v2.entryKey('user:1'))).to.deep.equal(['shop:__ca:versions:user:1']);
      expect(unversioned.versionIndexOf(unversioned.entryKey('user:1'))).to.deep.equal([]);
    });

    it("puts the lock in the versioned entry's hash slot, apart from other versions' locks", () => {
      for (const key of ['user:1', '{user:1}:profile']) {
        expect(keySlot(v1.lockKey(key))).to.equal(keySlot(v1.entryKey(key)));
      }
      expect(v1.lockKey('user:1')).to.not.equal(v2.lockKey('user:1'));
    });

    it('matches a pattern in every version, or in its own, from the start of the key only', () => {
      const everyVersion = v1.entryPattern('user:*', true);
      const ownVersion = v1.entryPattern('user:*');
      const matches = (pattern: { glob: string }, key: string) => compileGlob(pattern.glob).test(key);
      for (const keys of [v1, v2]) expect(matches(everyVersion, keys.entryKey('user:1'))).to.equal(true);
      expect(matches(ownVersion, v1.entryKey('user:1'))).to.equal(true);
      expect(matches(ownVersion, v2.entryKey('user:1'))).to.equal(false);
      for (const pattern of [everyVersion, ownVersion]) {
        expect(matches(pattern, v1.entryKey('x:user:1'))).to.equal(false);
        expect(matches(pattern, unversioned.entryKey('user:1'))).to.equal(false);
        expect(matches(pattern, v1.lockKey('user:1'))).to.equal(false);
        expect(matches(pattern, v1.versionIndexKey('user:1'))).to.equal(false);
      }
      expect(unversioned.entryPattern('user:*')).to.deep.equal({
        glob: 'shop:user:*',
        exceptPrefix: 'shop:__ca:',
      });
    });

    it("finds its own version's key for a key of another version", () => {
      expect(v2.inOwnVersion(v1.entryKey('a:b'))).to.equal(v2.entryKey('a:b'));
      expect(v2.inOwnVersion(v2.entryKey('a:b'))).to.equal(v2.entryKey('a:b'));
      for (const other of ['shop:a:b', 'shop:__ca:v:short:a', 'shop:__ca:tag:a']) {
        expect(v2.inOwnVersion(other)).to.equal(other);
      }
      expect(unversioned.inOwnVersion(v1.entryKey('a:b'))).to.equal(v1.entryKey('a:b'));
    });

    for (const version of ['', ' 1.0', '1.0\n', 'release {1}', 'a*', 'x'.repeat(65), 42, null]) {
      it(`refuses the version ${JSON.stringify(version)} at creation, naming the option`, () => {
        expect(() => makeCache({ version: version as string })).to.throw(CacheOptionError, /`version`/);
      });
    }

    it('accepts release names: semver with build metadata, commit ids, dates, image tags', () => {
      for (const version of [
        '2.4.1',
        '1.0.0-rc.1+build.5',
        'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
        '2026-12-01',
        'web:v7',
        'team/app@3',
      ]) {
        expect(makeCache({ version }).version).to.equal(version);
      }
      expect(makeCache().version).to.equal(undefined);
    });

    it('refuses invalidation options it does not know, or of the wrong type', async () => {
      const cache = makeCache({ version: '1' });
      for (const [call, message] of [
        [() => cache.invalidate('k', { allVersion: false } as never), /unknown option `allVersion`/],
        [() => cache.invalidate('k', { allVersions: 'no' } as never), /`allVersions` must be a boolean/],
        [() => cache.invalidatePattern('k*', null as never), /options must be an object/],
      ] as const) {
        const error = await rejectionOf(call);
        expect(error).to.be.instanceOf(CacheOptionError);
        expect((error as Error).message).to.match(message);
      }
    });
  });
});

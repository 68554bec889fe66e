import assert from 'node:assert/strict';
import type { CacheStore, TaggedDeletion } from '../store/cache-store.js';
import { type ContractSuite, eventually, MINUTE_MS, put, SHORT_TTL_MS, tagKey } from './contract-suite.js';

/** Deleting many entries at once: by tag index (`deleteTagged`) and by Redis glob (`deleteMatching`). */
export function describeInvalidationCases({ test, store }: ContractSuite): void {
  const { describe, it } = test;
  /** The deletion as a plain object, whatever class the store answers with. */
  const deleteTagged = async (tagKeys: string[]): Promise<TaggedDeletion> => {
    const { keys, deleted } = await store().deleteTagged(tagKeys);
    return { keys, deleted };
  };

  describe('deleteTagged', () => {
    it('deletes every entry listed under any of the tags, each counted once', async () => {
      await put(store(), 'c:item:1', 'one', MINUTE_MS, [tagKey('item:1'), tagKey('items')]);
      await put(store(), 'c:item:2', 'two', MINUTE_MS, [tagKey('items')]);
      await put(store(), 'c:list', 'list', MINUTE_MS, [tagKey('item:1'), tagKey('item:2')]);
      await put(store(), 'c:other', 'other', MINUTE_MS, [tagKey('other')]);
      await put(store(), 'c:untagged');
      const { deleted } = await deleteTagged([tagKey('item:1'), tagKey('items')]);
      assert.equal(deleted, 3);
      const left = await store().getMany(['c:item:1', 'c:item:2', 'c:list', 'c:other', 'c:untagged']);
      assert.deepEqual(
        left.map((value) => value?.toString()),
        [undefined, undefined, undefined, 'other', 'c:untagged'],
      );
    });

    it('reports the keys the tags listed, so in-process copies can be dropped too', async () => {
      await put(store(), 'c:a', 'a', MINUTE_MS, [tagKey('t')]);
      await put(store(), 'c:b', 'b', MINUTE_MS, [tagKey('t'), tagKey('u')]);
      const { keys } = await deleteTagged([tagKey('t'), tagKey('u')]);
      assert.deepEqual([...new Set(keys)].sort(), ['c:a', 'c:b']);
    });

    it('answers nothing deleted for a tag nobody used', async () => {
      assert.deepEqual(await deleteTagged([tagKey('nobody')]), { keys: [], deleted: 0 });
    });

    it('consumes the tag index: a second deleteTagged finds nothing', async () => {
      await put(store(), 'c:a', 'a', MINUTE_MS, [tagKey('t')]);
      assert.equal((await deleteTagged([tagKey('t')])).deleted, 1);
      assert.deepEqual(await deleteTagged([tagKey('t')]), { keys: [], deleted: 0 });
    });

    it('reaches an entry tagged again after a deleteTagged', async () => {
      await put(store(), 'c:a', 'a', MINUTE_MS, [tagKey('t')]);
      await deleteTagged([tagKey('t')]);
      await put(store(), 'c:a', 'a again', MINUTE_MS, [tagKey('t')]);
      assert.equal((await deleteTagged([tagKey('t')])).deleted, 1);
      assert.equal(await store().get('c:a'), undefined);
    });

    it('does not count tagged entries that already expired', async () => {
      await put(store(), 'c:short', 'x', SHORT_TTL_MS, [tagKey('t')]);
      await put(store(), 'c:long', 'y', MINUTE_MS, [tagKey('t')]);
      await eventually(async () => (await store().get('c:short')) === undefined);
      assert.equal((await deleteTagged([tagKey('t')])).deleted, 1);
    });

    it('deletes more tagged entries than fit in one batch', async () => {
      const keys = Array.from({ length: 1_200 }, (_, index) => `c:many:${index}`);
      await Promise.all(keys.map((key) => put(store(), key, key, MINUTE_MS, [tagKey('many')])));
      const deletion = await deleteTagged([tagKey('many')]);
      assert.equal(deletion.deleted, keys.length);
      assert.equal(deletion.keys.length, keys.length);
      assert.equal(
        (await store().getMany(keys)).every((value) => value === undefined),
        true,
      );
    });
  });

  describe('deleteMatching (Redis glob semantics)', () => {
    const seed = async (keys: string[]) => {
      for (const key of keys) await put(store(), key);
    };
    /** Stores `keys`, deletes what `pattern` matches, and tells how many went and which stayed. */
    const deletingMatching = async (keys: string[], pattern: string) => {
      await seed(keys);
      const deleted = await store().deleteMatching(pattern);
      return { deleted, survivors: await survivors(store(), keys) };
    };

    it('`*` matches any run of characters, the empty run and `:` included', async () => {
      assert.deepEqual(
        await deletingMatching(
          ['c:user:1', 'c:user:22', 'c:user:', 'c:user', 'c:users:1', 'd:user:1'],
          'c:user:*',
        ),
        {
          deleted: 3,
          survivors: ['c:user', 'c:users:1', 'd:user:1'],
        },
      );
    });

    it('`?` matches exactly one character', async () => {
      assert.deepEqual(await deletingMatching(['c:k1', 'c:k22', 'c:k'], 'c:k?'), {
        deleted: 1,
        survivors: ['c:k22', 'c:k'],
      });
    });

    it('`[ab]` matches one character of a set', async () => {
      assert.deepEqual(await deletingMatching(['c:a', 'c:b', 'c:d'], 'c:[ab]'), {
        deleted: 2,
        survivors: ['c:d'],
      });
    });

    it('`[^a]` matches one character outside a set', async () => {
      assert.deepEqual(await deletingMatching(['c:a', 'c:b', 'c:d', 'c:bb'], 'c:[^a]'), {
        deleted: 2,
        survivors: ['c:a', 'c:bb'],
      });
    });

    it('`[a-c]` matches one character of a range', async () => {
      assert.deepEqual(await deletingMatching(['c:a', 'c:c', 'c:x'], 'c:[a-c]'), {
        deleted: 2,
        survivors: ['c:x'],
      });
    });

    it('a backslash makes a glob character literal', async () => {
      await seed(['c:a*b', 'c:axb', 'c:a?b', 'c:a[x]b']);
      assert.equal(await store().deleteMatching('c:a\\*b'), 1);
      assert.equal(await store().deleteMatching('c:a\\?b'), 1);
      assert.equal(await store().deleteMatching('c:a\\[x\\]b'), 1);
      assert.deepEqual(await survivors(store(), ['c:a*b', 'c:axb', 'c:a?b', 'c:a[x]b']), ['c:axb']);
    });

    it('characters that are special in regular expressions match only themselves', async () => {
      await seed(['c:a.b', 'c:axb', 'c:(x)+$', 'c:^a|b']);
      assert.equal(await store().deleteMatching('c:a.b'), 1);
      assert.equal(await store().deleteMatching('c:(x)+$'), 1);
      assert.equal(await store().deleteMatching('c:^a|b'), 1);
      assert.deepEqual(await survivors(store(), ['c:a.b', 'c:axb', 'c:(x)+$', 'c:^a|b']), ['c:axb']);
    });

    it('answers 0 when nothing matches', async () => {
      assert.deepEqual(await deletingMatching(['c:a'], 'c:zzz*'), {
        deleted: 0,
        survivors: ['c:a'],
      });
    });

    it('deletes matches beyond one batch', async () => {
      const keys = Array.from({ length: 1_200 }, (_, index) => `c:bulk:${index}`);
      await Promise.all(keys.map((key) => put(store(), key)));
      await put(store(), 'c:keep');
      assert.equal(await store().deleteMatching('c:bulk:*'), keys.length);
      assert.deepEqual(await survivors(store(), [...keys, 'c:keep']), ['c:keep']);
    });

    it('deletes entries only: a tag index that matches the pattern keeps working', async () => {
      const indexKey = 'c:__ca:tag:item:1';
      await put(store(), 'c:list', 'list', MINUTE_MS, [indexKey]);
      assert.equal(await store().deleteMatching('c:*:1'), 0);
      assert.equal((await deleteTagged([indexKey])).deleted, 1);
      assert.equal(await store().get('c:list'), undefined);
    });
  });
}

/** The values still stored under `keys` (each entry's value is its key), in the order of `keys`. */
async function survivors(store: CacheStore, keys: string[]): Promise<string[]> {
  return (await store.getMany(keys))
    .map((value) => value?.toString())
    .filter((value): value is string => value !== undefined);
}

import assert from 'node:assert/strict';
import type { CacheStore, KeyScan, ScanPage } from '../store/cache-store.js';
import { type ContractSuite, MINUTE_MS, put, tagKey } from './contract-suite.js';

/** Steps a walk may take before the case calls it endless: far more than any store needs here. */
const MAX_STEPS = 10_000;

/**
 * The walks that inspection (`cache.inspector`, the admin router) makes: `scanKeys` over the keys,
 * `scanTagMembers` over the keys a tag index lists, each one bounded step after another.
 */
export function describeInspectionCases(
  { test, store }: ContractSuite,
  has: { scanKeys: boolean; scanTagMembers: boolean },
): void {
  const { describe, it } = test;

  if (has.scanKeys) {
    describe('scanKeys', () => {
      const scan = (search: Omit<KeyScan, 'count'>, count = 10) =>
        walk((cursor) => scanKeysOf(store())(cursor, { ...search, count }));

      it('walks every entry matching the glob, in bounded steps, to cursor 0', async () => {
        const keys = Array.from({ length: 120 }, (_, index) => `c:item:${index}`);
        await Promise.all([...keys, 'c:other:1', 'd:item:1'].map((key) => put(store(), key)));
        assert.deepEqual(await scan({ pattern: 'c:item:*', type: 'string' }), [...keys].sort());
      });

      it('finds only keys of the type asked for: entries are strings, tag indexes are sets', async () => {
        await put(store(), 'c:item:1', 'one', MINUTE_MS, [tagKey('item:1')]);
        assert.deepEqual(await scan({ pattern: 'c:*', type: 'string' }), ['c:item:1']);
        assert.deepEqual(await scan({ pattern: 'c:*', type: 'set' }), [tagKey('item:1')]);
      });

      it('with a member, finds only the tag indexes that list it', async () => {
        await put(store(), 'c:a', 'a', MINUTE_MS, [tagKey('t'), tagKey('u')]);
        await put(store(), 'c:b', 'b', MINUTE_MS, [tagKey('u'), tagKey('v')]);
        const listing = (member: string) => scan({ pattern: tagKey('*'), type: 'set', member });
        assert.deepEqual(await listing('c:a'), [tagKey('t'), tagKey('u')]);
        assert.deepEqual(await listing('c:b'), [tagKey('u'), tagKey('v')]);
        assert.deepEqual(await listing('c:nobody'), []);
      });

      it('answers an empty walk when nothing matches', async () => {
        await put(store(), 'c:a');
        assert.deepEqual(await scan({ pattern: 'c:zzz*', type: 'string' }), []);
      });
    });
  }

  if (has.scanTagMembers) {
    describe('scanTagMembers', () => {
      const members = (name: string, count = 10) =>
        walk((cursor) => scanTagMembersOf(store())(tagKey(name), cursor, count));

      it('walks every key a tag lists, small index or large, to cursor 0', async () => {
        const many = Array.from({ length: 600 }, (_, index) => `c:many:${index}`);
        await Promise.all(many.map((key) => put(store(), key, key, MINUTE_MS, [tagKey('many')])));
        await put(store(), 'c:one', 'one', MINUTE_MS, [tagKey('few')]);
        await put(store(), 'c:two', 'two', MINUTE_MS, [tagKey('few'), tagKey('many')]);
        assert.deepEqual(await members('few'), ['c:one', 'c:two']);
        assert.deepEqual(await members('many', 50), [...many, 'c:two'].sort());
      });

      it('answers an empty walk for a tag nobody used, or one already invalidated', async () => {
        await put(store(), 'c:a', 'a', MINUTE_MS, [tagKey('gone')]);
        await store().deleteTagged([tagKey('gone')]);
        assert.deepEqual(await members('gone'), []);
        assert.deepEqual(await members('nobody'), []);
      });
    });
  }
}

/** Every item of a walk from cursor `'0'` to cursor `'0'`, each once, sorted. */
async function walk(step: (cursor: string) => Promise<ScanPage<string>>): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  for (let steps = 1; ; steps++) {
    const page = await step(cursor);
    for (const item of page.items) found.add(item);
    cursor = page.cursor;
    if (cursor === '0') return [...found].sort();
    assert.ok(steps < MAX_STEPS, `the walk did not end after ${MAX_STEPS} steps`);
  }
}

function scanKeysOf(store: CacheStore): NonNullable<CacheStore['scanKeys']> {
  assert.ok(store.scanKeys !== undefined, `${store.name} declares scanKeys but has no such method`);
  return store.scanKeys.bind(store);
}

function scanTagMembersOf(store: CacheStore): NonNullable<CacheStore['scanTagMembers']> {
  assert.ok(
    store.scanTagMembers !== undefined,
    `${store.name} declares scanTagMembers but has no such method`,
  );
  return store.scanTagMembers.bind(store);
}

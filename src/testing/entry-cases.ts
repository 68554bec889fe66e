import assert from 'node:assert/strict';
import {
  assertWithin,
  type ContractSuite,
  eventually,
  MINUTE_MS,
  put,
  SHORT_TTL_MS,
  textOf,
} from './contract-suite.js';

/** Reading, writing, expiring and deleting single entries. */
export function describeEntryCases({ test, store }: ContractSuite): void {
  const { describe, it } = test;

  describe('get and set', () => {
    it('reads a missing key as undefined', async () => {
      assert.equal(await store().get('c:missing'), undefined);
    });

    it('returns exactly the bytes that were set', async () => {
      await put(store(), 'c:user:1', '{"id":1,"name":"Alice"}');
      assert.equal(await textOf(store(), 'c:user:1'), '{"id":1,"name":"Alice"}');
    });

    it('is binary-safe: every byte value and invalid UTF-8 come back unchanged', async () => {
      const value = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, index) => index)),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xe2, 0x82]),
      ]);
      await store().set('c:binary', value, { ttlMs: MINUTE_MS });
      const read = await store().get('c:binary');
      assert.equal(Buffer.isBuffer(read), true);
      assert.equal(read?.equals(value), true);
    });

    it('stores an empty value as an empty value, not as a missing key', async () => {
      await store().set('c:empty', Buffer.alloc(0), { ttlMs: MINUTE_MS });
      assert.equal((await store().get('c:empty'))?.length, 0);
    });

    it('treats keys as exact strings: case, unicode and glob characters included', async () => {
      await put(store(), 'c:Key', 'upper');
      await put(store(), 'c:key', 'lower');
      await put(store(), 'c:ключ:é', 'unicode');
      await put(store(), 'c:a*[b]?', 'glob');
      assert.equal(await textOf(store(), 'c:Key'), 'upper');
      assert.equal(await textOf(store(), 'c:key'), 'lower');
      assert.equal(await textOf(store(), 'c:ключ:é'), 'unicode');
      assert.equal(await textOf(store(), 'c:a*[b]?'), 'glob');
      assert.equal(await store().get('c:a'), undefined);
    });

    it('overwrites the value and the lifetime of an existing key', async () => {
      await put(store(), 'c:k', 'old', MINUTE_MS);
      await put(store(), 'c:k', 'new', 2 * MINUTE_MS);
      assert.equal(await textOf(store(), 'c:k'), 'new');
      assertWithin(await store().ttlSeconds('c:k'), 119, 120);
    });

    it('forgets a value once its ttlMs has passed', async () => {
      await put(store(), 'c:short', 'soon gone', SHORT_TTL_MS);
      assert.equal(await textOf(store(), 'c:short'), 'soon gone');
      await eventually(async () => (await store().get('c:short')) === undefined);
      assert.equal(await store().ttlSeconds('c:short'), -2);
    });
  });

  describe('getMany', () => {
    it('answers in the order of the keys, undefined for missing ones, duplicates included', async () => {
      await put(store(), 'c:a', 'A');
      await put(store(), 'c:c', 'C');
      const values = await store().getMany(['c:c', 'c:b', 'c:a', 'c:c']);
      assert.deepEqual(
        values.map((value) => value?.toString()),
        ['C', undefined, 'A', 'C'],
      );
    });

    it('answers an empty list with an empty list', async () => {
      assert.deepEqual(await store().getMany([]), []);
    });

    it('does not return expired values', async () => {
      await put(store(), 'c:short', 'x', SHORT_TTL_MS);
      await put(store(), 'c:long', 'y');
      await eventually(async () => (await store().get('c:short')) === undefined);
      const values = await store().getMany(['c:short', 'c:long']);
      assert.deepEqual(
        values.map((value) => value?.toString()),
        [undefined, 'y'],
      );
    });
  });

  describe('ttlSeconds and expire', () => {
    it('reports -2 for a missing key', async () => {
      assert.equal(await store().ttlSeconds('c:missing'), -2);
    });

    it('reports the remaining lifetime in whole seconds', async () => {
      await put(store(), 'c:k', 'v', MINUTE_MS);
      assertWithin(await store().ttlSeconds('c:k'), 59, 60);
    });

    it('expire changes the remaining lifetime of an existing key and says so', async () => {
      await put(store(), 'c:k', 'v', MINUTE_MS);
      assert.equal(await store().expire('c:k', 120), true);
      assertWithin(await store().ttlSeconds('c:k'), 119, 120);
      assert.equal(await textOf(store(), 'c:k'), 'v');
    });

    it('expire answers false for a missing key and does not create it', async () => {
      assert.equal(await store().expire('c:missing', 120), false);
      assert.equal(await store().get('c:missing'), undefined);
    });

    it('expire with 0 seconds removes the key at once', async () => {
      await put(store(), 'c:k');
      assert.equal(await store().expire('c:k', 0), true);
      assert.equal(await store().get('c:k'), undefined);
    });
  });

  describe('delete', () => {
    it('deletes the keys and counts only those that existed', async () => {
      await put(store(), 'c:a');
      await put(store(), 'c:b');
      assert.equal(await store().delete(['c:a', 'c:b', 'c:missing']), 2);
      assert.deepEqual(await store().getMany(['c:a', 'c:b']), [undefined, undefined]);
    });

    it('deletes nothing for an empty list', async () => {
      await put(store(), 'c:a');
      assert.equal(await store().delete([]), 0);
      assert.notEqual(await store().get('c:a'), undefined);
    });

    it('does not count an entry that already expired', async () => {
      await put(store(), 'c:short', 'x', SHORT_TTL_MS);
      await eventually(async () => (await store().get('c:short')) === undefined);
      assert.equal(await store().delete(['c:short']), 0);
    });
  });
}

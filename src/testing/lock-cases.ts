import assert from 'node:assert/strict';
import type { CacheStore } from '../store/cache-store.js';
import { bytes, type ContractSuite, eventually, MINUTE_MS, put, SHORT_TTL_MS } from './contract-suite.js';

/**
 * The distributed lock (`acquireLock`, `releaseLock`) and, when offered, `acquireLockAndGet` and
 * `setAndReleaseLock` (whose lease case runs when the store has `readLease`).
 */
export function describeLockCases(
  { test, store }: ContractSuite,
  has: { acquireLockAndGet: boolean; setAndReleaseLock: boolean; readLease: boolean },
): void {
  const { describe, it } = test;

  describe('acquireLock and releaseLock', () => {
    it('grants a free lock once: a second holder is refused while it is held', async () => {
      assert.equal(await store().acquireLock('c:lock', 'token-a', MINUTE_MS), true);
      assert.equal(await store().acquireLock('c:lock', 'token-b', MINUTE_MS), false);
      assert.equal(await store().acquireLock('c:lock', 'token-a', MINUTE_MS), false);
    });

    it('releases only for the token that holds the lock (compare and delete)', async () => {
      await store().acquireLock('c:lock', 'token-a', MINUTE_MS);
      assert.equal(await store().releaseLock('c:lock', 'token-b'), false);
      assert.equal(await store().acquireLock('c:lock', 'token-b', MINUTE_MS), false);
      assert.equal(await store().releaseLock('c:lock', 'token-a'), true);
      assert.equal(await store().acquireLock('c:lock', 'token-b', MINUTE_MS), true);
    });

    it('answers false when releasing a lock nobody holds', async () => {
      assert.equal(await store().releaseLock('c:lock', 'token-a'), false);
    });

    it('lets a lock expire after its ttlMs, and the late holder cannot release the new one', async () => {
      assert.equal(await store().acquireLock('c:lock', 'token-a', SHORT_TTL_MS), true);
      await eventually(() => store().acquireLock('c:lock', 'token-b', MINUTE_MS));
      assert.equal(await store().releaseLock('c:lock', 'token-a'), false);
      assert.equal(await store().acquireLock('c:lock', 'token-c', MINUTE_MS), false);
      assert.equal(await store().releaseLock('c:lock', 'token-b'), true);
    });

    it('keeps locks of different keys apart', async () => {
      assert.equal(await store().acquireLock('c:lock:1', 'token-a', MINUTE_MS), true);
      assert.equal(await store().acquireLock('c:lock:2', 'token-a', MINUTE_MS), true);
    });
  });

  if (has.setAndReleaseLock) describeSetAndReleaseLock({ test, store }, has.readLease);
  if (!has.acquireLockAndGet) return;
  describe('acquireLockAndGet', () => {
    // The lock and the entry sit in different hash slots, and (the {tag} keys) in one.
    for (const [lockKey, entryKey] of [
      ['c:lock:item', 'c:item'],
      ['c:lock:{item}', 'c:{item}'],
    ] as const) {
      it(`takes a free lock and reads the entry with it (${lockKey}, ${entryKey})`, async () => {
        const acquireLockAndGet = lockAndGetOf(store());
        assert.deepEqual(await acquireLockAndGet(lockKey, 'token-a', MINUTE_MS, entryKey), {
          acquired: true,
          value: undefined,
        });
        assert.equal(await store().releaseLock(lockKey, 'token-a'), true);
        await put(store(), entryKey, 'stored by the previous holder');
        const found = await acquireLockAndGet(lockKey, 'token-b', MINUTE_MS, entryKey);
        assert.equal(found.acquired && found.value?.toString('utf8'), 'stored by the previous holder');
        assert.deepEqual(
          await acquireLockAndGet(lockKey, 'token-c', MINUTE_MS, entryKey),
          { acquired: false },
          'held',
        );
        assert.equal(await store().releaseLock(lockKey, 'token-c'), false, 'the refused token holds nothing');
        assert.equal(await store().releaseLock(lockKey, 'token-b'), true);
      });
    }

    it('gives the lock its ttlMs', async () => {
      const acquireLockAndGet = lockAndGetOf(store());
      assert.equal((await acquireLockAndGet('c:lock', 'token-a', SHORT_TTL_MS, 'c:entry')).acquired, true);
      await eventually(() => store().acquireLock('c:lock', 'token-b', MINUTE_MS));
    });
  });
}

/** The optional `acquireLockAndGet`, bound; a declared capability that is missing fails the case here. */
function lockAndGetOf(store: CacheStore): NonNullable<CacheStore['acquireLockAndGet']> {
  assert.ok(
    store.acquireLockAndGet !== undefined,
    `${store.name} declares acquireLockAndGet but has no such method`,
  );
  return store.acquireLockAndGet.bind(store);
}

function describeSetAndReleaseLock({ test, store }: ContractSuite, readLease: boolean): void {
  const { describe, it } = test;
  describe('setAndReleaseLock', () => {
    // The lock and the entry sit in different hash slots, and (the {tag} keys) in one.
    for (const [lockKey, entryKey] of [
      ['c:lock:item', 'c:item'],
      ['c:lock:{item}', 'c:{item}'],
    ] as const) {
      it(`writes the entry and releases the lock held with the token (${lockKey}, ${entryKey})`, async () => {
        const setAndReleaseLock = setAndReleaseOf(store());
        assert.equal(await store().acquireLock(lockKey, 'token-a', MINUTE_MS), true);
        await setAndReleaseLock(
          entryKey,
          bytes('loaded'),
          { ttlMs: MINUTE_MS },
          { key: lockKey, token: 'token-a' },
        );
        assert.equal((await store().get(entryKey))?.toString('utf8'), 'loaded');
        assert.equal(await store().acquireLock(lockKey, 'token-b', MINUTE_MS), true, 'released');
      });
    }

    it('leaves a lock that another token holds (its holder took it after ours expired)', async () => {
      const setAndReleaseLock = setAndReleaseOf(store());
      assert.equal(await store().acquireLock('c:lock:{item}', 'token-b', MINUTE_MS), true);
      await setAndReleaseLock(
        'c:{item}',
        bytes('loaded'),
        { ttlMs: MINUTE_MS },
        { key: 'c:lock:{item}', token: 'token-a' },
      );
      assert.equal((await store().get('c:{item}'))?.toString('utf8'), 'loaded');
      assert.equal(await store().acquireLock('c:lock:{item}', 'token-c', MINUTE_MS), false, 'still held');
      assert.equal(await store().releaseLock('c:lock:{item}', 'token-b'), true);
    });

    if (!readLease) return;
    it('releases the lock when the lease refuses the write (an invalidation came after the load began)', async () => {
      const setAndReleaseLock = setAndReleaseOf(store());
      const lease = await store().readLease?.();
      assert.ok(lease !== undefined);
      assert.equal(await store().acquireLock('c:lock:{item}', 'token-a', MINUTE_MS), true);
      await store().delete(['c:{item}']);
      const written = await setAndReleaseLock(
        'c:{item}',
        bytes('read before the invalidation'),
        { ttlMs: MINUTE_MS, lease },
        { key: 'c:lock:{item}', token: 'token-a' },
      );
      assert.equal(written, 'invalidated');
      assert.equal(await store().get('c:{item}'), undefined);
      assert.equal(await store().acquireLock('c:lock:{item}', 'token-b', MINUTE_MS), true, 'released');
    });
  });
}

/** The optional `setAndReleaseLock`, bound; a declared capability that is missing fails the case here. */
function setAndReleaseOf(store: CacheStore): NonNullable<CacheStore['setAndReleaseLock']> {
  assert.ok(
    store.setAndReleaseLock !== undefined,
    `${store.name} declares setAndReleaseLock but has no such method`,
  );
  return store.setAndReleaseLock.bind(store);
}

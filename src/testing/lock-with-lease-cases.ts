import assert from 'node:assert/strict';
import type { CacheStore } from '../store/cache-store.js';
import {
  bytes,
  type ContractSuite,
  eventually,
  MINUTE_MS,
  put,
  SHORT_TTL_MS,
  textOf,
} from './contract-suite.js';

/**
 * `acquireLockAndGetWithLease`: `acquireLockAndGet` and `readLease` at once, the lease given whatever
 * became of the lock, and as good as `readLease`'s against a stale set. The lock shares the entry's
 * hash slot, as the cache's locks do.
 */
export function describeLockWithLeaseCases({ test, store }: ContractSuite): void {
  const { describe, it } = test;
  const lockKey = 'c:lock:{item}';
  const entryKey = 'c:{item}';

  describe('acquireLockAndGetWithLease', () => {
    it('takes a free lock, reads the entry with it and gives the lease readLease gives', async () => {
      const withLease = lockWithLeaseOf(store());
      await put(store(), entryKey, 'stored by the previous holder');
      const found = await withLease(lockKey, 'token-a', MINUTE_MS, entryKey);
      assert.equal(found.acquired && found.value?.toString('utf8'), 'stored by the previous holder');
      assert.equal(found.lease.generation, (await leaseOf(store())).generation);
      assert.equal(await store().releaseLock(lockKey, 'token-a'), true, 'held with the token');
      await store().delete([entryKey]);
      const missing = await withLease(lockKey, 'token-b', MINUTE_MS, entryKey);
      assert.equal(missing.acquired, true);
      assert.equal(missing.acquired && missing.value, undefined);
    });

    it('gives a lease when another holder has the lock, and takes nothing', async () => {
      const withLease = lockWithLeaseOf(store());
      assert.equal(await store().acquireLock(lockKey, 'token-a', MINUTE_MS), true);
      const refused = await withLease(lockKey, 'token-b', MINUTE_MS, entryKey);
      assert.equal(refused.acquired, false);
      assert.equal(refused.lease.generation, (await leaseOf(store())).generation);
      assert.equal(await store().releaseLock(lockKey, 'token-b'), false, 'the refused token holds nothing');
      assert.equal(await store().releaseLock(lockKey, 'token-a'), true);
    });

    it("refuses a load's write when its key is invalidated after the lease was given, and stores one leased after", async () => {
      const withLease = lockWithLeaseOf(store());
      await put(store(), entryKey, 'v0');
      const before = await withLease(lockKey, 'token-a', MINUTE_MS, entryKey);
      await store().delete([entryKey]);
      const stale = { ttlMs: MINUTE_MS, lease: before.lease };
      assert.equal(await store().set(entryKey, bytes('read before the invalidation'), stale), 'invalidated');
      assert.equal(await textOf(store(), entryKey), undefined);
      const after = await withLease(lockKey, 'token-b', MINUTE_MS, entryKey);
      assert.ok(after.lease.generation > before.lease.generation, 'the invalidation counted');
      assert.equal(
        await store().set(entryKey, bytes('v1'), { ttlMs: MINUTE_MS, lease: after.lease }),
        'stored',
      );
      assert.equal(await textOf(store(), entryKey), 'v1');
    });

    it('gives the lock its ttlMs', async () => {
      const withLease = lockWithLeaseOf(store());
      assert.equal((await withLease(lockKey, 'token-a', SHORT_TTL_MS, entryKey)).acquired, true);
      await eventually(() => store().acquireLock(lockKey, 'token-b', MINUTE_MS));
    });
  });
}

/** The optional method, bound; a declared capability that is missing fails the case here. */
function lockWithLeaseOf(store: CacheStore): NonNullable<CacheStore['acquireLockAndGetWithLease']> {
  assert.ok(
    store.acquireLockAndGetWithLease !== undefined,
    `${store.name} declares acquireLockAndGetWithLease but has no such method`,
  );
  return store.acquireLockAndGetWithLease.bind(store);
}

function leaseOf(store: CacheStore): ReturnType<NonNullable<CacheStore['readLease']>> {
  assert.ok(store.readLease !== undefined, `${store.name} has acquireLockAndGetWithLease but no readLease`);
  return store.readLease();
}

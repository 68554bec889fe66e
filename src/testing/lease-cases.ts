import assert from 'node:assert/strict';
import { type CacheStore, type Lease, MAX_LEASE_AGE_MS, type StoreRenewal } from '../store/cache-store.js';
import { bytes, type ContractSuite, MINUTE_MS, put, tagKey, textOf } from './contract-suite.js';

/**
 * `readLease` (no stale set): a load's write is refused when an invalidation came after the load
 * began; with `renew`, the in-place renewal of a stale entry under the same rule.
 */
export function describeLeaseCases({ test, store }: ContractSuite, has: { renew: boolean }): void {
  const { describe, it } = test;
  const lease = () => leaseOf(store())();
  const putLeased = (key: string, value: string, taken: Lease, tagKeys: string[] = []) =>
    store().set(key, bytes(value), { ttlMs: MINUTE_MS, tagKeys, lease: taken });

  describe('leases: no stale set', () => {
    // Each case: a load takes its lease, then (while it "reads its source") an invalidation comes and
    // is acknowledged; the load's write afterwards must not land.
    const crossings: [string, () => Promise<unknown>][] = [
      ['its key is deleted', () => store().delete(['c:item'])],
      ['one of its tags is invalidated', () => store().deleteTagged([tagKey('items')])],
      ['a pattern matching it is invalidated', () => store().deleteMatching('c:it*', 'c:__ca:')],
      ['its key is expired', () => store().expire('c:item', 0)],
      ['the application writes the key itself', () => put(store(), 'c:item', 'v2')],
    ];
    for (const [crossing, invalidate] of crossings) {
      it(`refuses a load's write when ${crossing} after the load began`, async () => {
        await put(store(), 'c:item', 'v0', MINUTE_MS, [tagKey('items')]);
        const taken = await lease();
        await invalidate();
        const afterInvalidation = await textOf(store(), 'c:item');
        assert.equal(await putLeased('c:item', 'v1', taken, [tagKey('items')]), 'invalidated');
        assert.equal(
          await textOf(store(), 'c:item'),
          afterInvalidation,
          'the store holds what it held after the invalidation',
        );
      });
    }

    it('stores a write whose lease was taken after the invalidation', async () => {
      await put(store(), 'c:item', 'v0', MINUTE_MS, [tagKey('items')]);
      await store().deleteTagged([tagKey('items')]);
      await store().delete(['c:item']);
      const taken = await lease();
      assert.equal(await putLeased('c:item', 'v1', taken, [tagKey('items')]), 'stored');
      assert.equal(await textOf(store(), 'c:item'), 'v1');
      // Indexed under its tag as any write.
      await store().deleteTagged([tagKey('items')]);
      assert.equal(await textOf(store(), 'c:item'), undefined);
    });

    it('is not voided by invalidations of other keys and tags', async () => {
      const taken = await lease();
      await put(store(), 'c:other', 'x', MINUTE_MS, [tagKey('others')]);
      await store().delete(['c:other']);
      await store().deleteTagged([tagKey('others')]);
      assert.equal(await putLeased('c:item', 'v1', taken, [tagKey('items')]), 'stored');
      assert.equal(await textOf(store(), 'c:item'), 'v1');
    });

    it("keeps the application's own write over a load that began before it", async () => {
      const taken = await lease();
      await put(store(), 'c:item', 'written by the application');
      assert.equal(await putLeased('c:item', 'loaded before', taken), 'invalidated');
      assert.equal(await textOf(store(), 'c:item'), 'written by the application');
    });

    it('refuses a write whose lease is older than MAX_LEASE_AGE_MS', async () => {
      const taken = await lease();
      const old = { ...taken, startedAtMs: taken.startedAtMs - MAX_LEASE_AGE_MS - 1_000 };
      assert.equal(await putLeased('c:item', 'v1', old), 'lease-expired');
      assert.equal(await textOf(store(), 'c:item'), undefined);
    });

    if (has.renew) describeRenewCases({ test, store }, lease);

    it('counts each invalidation: a later lease has a higher generation', async () => {
      const first = await lease();
      await store().delete(['c:item']);
      const second = await lease();
      assert.ok(
        second.generation > first.generation,
        `expected generation ${second.generation} to be greater than ${first.generation}`,
      );
    });
  });
}

function describeRenewCases({ test, store }: ContractSuite, lease: () => Promise<Lease>): void {
  const { describe, it } = test;
  const renewal = (taken: Lease, expected: Buffer, times: Buffer): StoreRenewal => ({
    offset: 2,
    expected,
    times,
    ttlMs: MINUTE_MS,
    tagKeys: [tagKey('items')],
    lease: taken,
  });
  const renew = (key: string, changes: StoreRenewal) => renewOf(store())(key, changes);

  describe('renew (a stale entry found still current)', () => {
    it('rewrites the bytes at the offset in place, keeping the rest, and indexes the tags', async () => {
      await put(store(), 'c:item', 'ab1234cd');
      const taken = await lease();
      assert.equal(await renew('c:item', renewal(taken, bytes('1234'), bytes('5678'))), 'stored');
      assert.equal(await textOf(store(), 'c:item'), 'ab5678cd');
      await store().deleteTagged([tagKey('items')]);
      assert.equal(await textOf(store(), 'c:item'), undefined);
    });

    it('writes the whole new value instead when the renewal carries one, on the same condition', async () => {
      await put(store(), 'c:item', 'ab1234cd');
      const taken = await lease();
      const whole = {
        ...renewal(taken, bytes('1234'), bytes('5678')),
        value: bytes('ab5678cd, body changed'),
      };
      assert.equal(await renew('c:item', { ...whole, expected: bytes('9999') }), 'changed');
      assert.equal(await textOf(store(), 'c:item'), 'ab1234cd');
      assert.equal(await renew('c:item', whole), 'stored');
      assert.equal(await textOf(store(), 'c:item'), 'ab5678cd, body changed');
    });

    it('says changed when the entry is not the one read (replaced or gone), and writes nothing', async () => {
      await put(store(), 'c:item', 'ab9999cd');
      const taken = await lease();
      assert.equal(await renew('c:item', renewal(taken, bytes('1234'), bytes('5678'))), 'changed');
      assert.equal(await textOf(store(), 'c:item'), 'ab9999cd');
      assert.equal(await renew('c:gone', renewal(taken, bytes('1234'), bytes('5678'))), 'changed');
      assert.equal(await store().get('c:gone'), undefined);
    });

    it('is refused under a lease that an invalidation of the entry voided', async () => {
      await put(store(), 'c:item', 'ab1234cd');
      const taken = await lease();
      await store().expire('c:item', 60);
      assert.equal(await renew('c:item', renewal(taken, bytes('1234'), bytes('5678'))), 'invalidated');
      assert.equal(await textOf(store(), 'c:item'), 'ab1234cd');
    });
  });
}

/** The optional `readLease`, bound; a declared capability that is missing fails the case here. */
function leaseOf(store: CacheStore): NonNullable<CacheStore['readLease']> {
  assert.ok(store.readLease !== undefined, `${store.name} declares readLease but has no such method`);
  return store.readLease.bind(store);
}

function renewOf(store: CacheStore): NonNullable<CacheStore['renew']> {
  assert.ok(store.renew !== undefined, `${store.name} declares renew but has no such method`);
  return store.renew.bind(store);
}

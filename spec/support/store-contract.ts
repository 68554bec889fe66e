import { expect } from 'chai';
import { type CacheStore, type Lease, MAX_LEASE_AGE_MS } from '../../src/store/cache-store.js';

const MINUTE_MS = 60_000;
const SHORT_TTL_MS = 60;

/**
 * The behaviour every {@link CacheStore} must share, so that the engine cannot tell one backend from
 * another. Run it once per backend: `makeStore` builds a store over an empty backend for each spec,
 * `cleanup` empties the backend after each spec.
 */
export function describeStoreContract(
  name: string,
  makeStore: () => CacheStore | Promise<CacheStore>,
  cleanup: () => unknown = () => undefined,
): void {
  describe(`${name} honours the store contract`, () => {
    let store: CacheStore;
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    const put = (key: string, value = key, ttlMs = MINUTE_MS, tagKeys: string[] = []) =>
      store.set(key, bytes(value), { ttlMs, tagKeys });

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('get and set', () => {
      it('reads a missing key as undefined', async () => {
        expect(await store.get('c:missing')).to.equal(undefined);
      });

      it('returns exactly the bytes that were set', async () => {
        await put('c:user:1', '{"id":1,"name":"Alice"}');
        expect((await store.get('c:user:1'))?.toString('utf8')).to.equal('{"id":1,"name":"Alice"}');
      });

      it('is binary-safe: every byte value and invalid UTF-8 come back unchanged', async () => {
        const value = Buffer.concat([
          Buffer.from(Array.from({ length: 256 }, (_, index) => index)),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xe2, 0x82]),
        ]);
        await store.set('c:binary', value, { ttlMs: MINUTE_MS });
        const read = await store.get('c:binary');
        expect(Buffer.isBuffer(read)).to.equal(true);
        expect(read?.equals(value)).to.equal(true);
      });

      it('stores an empty value as an empty value, not as a missing key', async () => {
        await store.set('c:empty', Buffer.alloc(0), { ttlMs: MINUTE_MS });
        expect((await store.get('c:empty'))?.length).to.equal(0);
      });

      it('treats keys as exact strings: case, unicode and glob characters included', async () => {
        await put('c:Key', 'upper');
        await put('c:key', 'lower');
        await put('c:ключ:é', 'unicode');
        await put('c:a*[b]?', 'glob');
        expect((await store.get('c:Key'))?.toString()).to.equal('upper');
        expect((await store.get('c:key'))?.toString()).to.equal('lower');
        expect((await store.get('c:ключ:é'))?.toString()).to.equal('unicode');
        expect((await store.get('c:a*[b]?'))?.toString()).to.equal('glob');
        expect(await store.get('c:a')).to.equal(undefined);
      });

      it('overwrites the value and the lifetime of an existing key', async () => {
        await put('c:k', 'old', MINUTE_MS);
        await put('c:k', 'new', 2 * MINUTE_MS);
        expect((await store.get('c:k'))?.toString()).to.equal('new');
        expect(await store.ttlSeconds('c:k')).to.be.within(119, 120);
      });

      it('forgets a value once its ttlMs has passed', async () => {
        await put('c:short', 'soon gone', SHORT_TTL_MS);
        expect((await store.get('c:short'))?.toString()).to.equal('soon gone');
        await eventually(async () => (await store.get('c:short')) === undefined);
        expect(await store.ttlSeconds('c:short')).to.equal(-2);
      });
    });

    describe('getMany', () => {
      it('answers in the order of the keys, undefined for missing ones, duplicates included', async () => {
        await put('c:a', 'A');
        await put('c:c', 'C');
        const values = await store.getMany(['c:c', 'c:b', 'c:a', 'c:c']);
        expect(values.map((value) => value?.toString())).to.deep.equal(['C', undefined, 'A', 'C']);
      });

      it('answers an empty list with an empty list', async () => {
        expect(await store.getMany([])).to.deep.equal([]);
      });

      it('does not return expired values', async () => {
        await put('c:short', 'x', SHORT_TTL_MS);
        await put('c:long', 'y');
        await eventually(async () => (await store.get('c:short')) === undefined);
        const values = await store.getMany(['c:short', 'c:long']);
        expect(values.map((value) => value?.toString())).to.deep.equal([undefined, 'y']);
      });
    });

    describe('ttlSeconds and expire', () => {
      it('reports -2 for a missing key', async () => {
        expect(await store.ttlSeconds('c:missing')).to.equal(-2);
      });

      it('reports the remaining lifetime in whole seconds', async () => {
        await put('c:k', 'v', MINUTE_MS);
        expect(await store.ttlSeconds('c:k')).to.be.within(59, 60);
      });

      it('expire changes the remaining lifetime of an existing key and says so', async () => {
        await put('c:k', 'v', MINUTE_MS);
        expect(await store.expire('c:k', 120)).to.equal(true);
        expect(await store.ttlSeconds('c:k')).to.be.within(119, 120);
        expect((await store.get('c:k'))?.toString()).to.equal('v');
      });

      it('expire answers false for a missing key and does not create it', async () => {
        expect(await store.expire('c:missing', 120)).to.equal(false);
        expect(await store.get('c:missing')).to.equal(undefined);
      });

      it('expire with 0 seconds removes the key at once', async () => {
        await put('c:k');
        expect(await store.expire('c:k', 0)).to.equal(true);
        expect(await store.get('c:k')).to.equal(undefined);
      });
    });

    describe('delete', () => {
      it('deletes the keys and counts only those that existed', async () => {
        await put('c:a');
        await put('c:b');
        expect(await store.delete(['c:a', 'c:b', 'c:missing'])).to.equal(2);
        expect(await store.getMany(['c:a', 'c:b'])).to.deep.equal([undefined, undefined]);
      });

      it('deletes nothing for an empty list', async () => {
        await put('c:a');
        expect(await store.delete([])).to.equal(0);
        expect(await store.get('c:a')).to.not.equal(undefined);
      });

      it('does not count an entry that already expired', async () => {
        await put('c:short', 'x', SHORT_TTL_MS);
        await eventually(async () => (await store.get('c:short')) === undefined);
        expect(await store.delete(['c:short'])).to.equal(0);
      });
    });

    describe('deleteTagged', () => {
      const tag = (name: string) => `c:__ca:tag:${name}`;

      it('deletes every entry listed under any of the tags, each counted once', async () => {
        await put('c:item:1', 'one', MINUTE_MS, [tag('item:1'), tag('items')]);
        await put('c:item:2', 'two', MINUTE_MS, [tag('items')]);
        await put('c:list', 'list', MINUTE_MS, [tag('item:1'), tag('item:2')]);
        await put('c:other', 'other', MINUTE_MS, [tag('other')]);
        await put('c:untagged');
        const { deleted } = await store.deleteTagged([tag('item:1'), tag('items')]);
        expect(deleted).to.equal(3);
        const left = await store.getMany(['c:item:1', 'c:item:2', 'c:list', 'c:other', 'c:untagged']);
        expect(left.map((value) => value?.toString())).to.deep.equal([
          undefined,
          undefined,
          undefined,
          'other',
          'c:untagged',
        ]);
      });

      it('reports the keys the tags listed, so in-process copies can be dropped too', async () => {
        await put('c:a', 'a', MINUTE_MS, [tag('t')]);
        await put('c:b', 'b', MINUTE_MS, [tag('t'), tag('u')]);
        const { keys } = await store.deleteTagged([tag('t'), tag('u')]);
        expect([...new Set(keys)].sort()).to.deep.equal(['c:a', 'c:b']);
      });

      it('answers nothing deleted for a tag nobody used', async () => {
        expect(await store.deleteTagged([tag('nobody')])).to.deep.equal({ keys: [], deleted: 0 });
      });

      it('consumes the tag index: a second deleteTagged finds nothing', async () => {
        await put('c:a', 'a', MINUTE_MS, [tag('t')]);
        expect((await store.deleteTagged([tag('t')])).deleted).to.equal(1);
        expect(await store.deleteTagged([tag('t')])).to.deep.equal({ keys: [], deleted: 0 });
      });

      it('reaches an entry tagged again after a deleteTagged', async () => {
        await put('c:a', 'a', MINUTE_MS, [tag('t')]);
        await store.deleteTagged([tag('t')]);
        await put('c:a', 'a again', MINUTE_MS, [tag('t')]);
        expect((await store.deleteTagged([tag('t')])).deleted).to.equal(1);
        expect(await store.get('c:a')).to.equal(undefined);
      });

      it('does not count tagged entries that already expired', async () => {
        await put('c:short', 'x', SHORT_TTL_MS, [tag('t')]);
        await put('c:long', 'y', MINUTE_MS, [tag('t')]);
        await eventually(async () => (await store.get('c:short')) === undefined);
        expect((await store.deleteTagged([tag('t')])).deleted).to.equal(1);
      });

      it('deletes more tagged entries than fit in one batch', async () => {
        const keys = Array.from({ length: 1_200 }, (_, index) => `c:many:${index}`);
        await Promise.all(keys.map((key) => put(key, key, MINUTE_MS, [tag('many')])));
        const deletion = await store.deleteTagged([tag('many')]);
        expect(deletion.deleted).to.equal(keys.length);
        expect(deletion.keys).to.have.lengthOf(keys.length);
        expect((await store.getMany(keys)).every((value) => value === undefined)).to.equal(true);
      });
    });

    describe('deleteMatching (Redis glob semantics)', () => {
      const seed = async (keys: string[]) => {
        for (const key of keys) await put(key);
      };
      const survivors = async (keys: string[]) =>
        (await store.getMany(keys))
          .map((value) => value?.toString())
          .filter((value): value is string => value !== undefined);

      it('`*` matches any run of characters, the empty run and `:` included', async () => {
        await seed(['c:user:1', 'c:user:22', 'c:user:', 'c:user', 'c:users:1', 'd:user:1']);
        expect(await store.deleteMatching('c:user:*')).to.equal(3);
        expect(
          await survivors(['c:user:1', 'c:user:22', 'c:user:', 'c:user', 'c:users:1', 'd:user:1']),
        ).to.deep.equal(['c:user', 'c:users:1', 'd:user:1']);
      });

      it('`?` matches exactly one character', async () => {
        await seed(['c:k1', 'c:k22', 'c:k']);
        expect(await store.deleteMatching('c:k?')).to.equal(1);
        expect(await survivors(['c:k1', 'c:k22', 'c:k'])).to.deep.equal(['c:k22', 'c:k']);
      });

      it('`[ab]` matches one character of a set', async () => {
        await seed(['c:a', 'c:b', 'c:d']);
        expect(await store.deleteMatching('c:[ab]')).to.equal(2);
        expect(await survivors(['c:a', 'c:b', 'c:d'])).to.deep.equal(['c:d']);
      });

      it('`[^a]` matches one character outside a set', async () => {
        await seed(['c:a', 'c:b', 'c:d', 'c:bb']);
        expect(await store.deleteMatching('c:[^a]')).to.equal(2);
        expect(await survivors(['c:a', 'c:b', 'c:d', 'c:bb'])).to.deep.equal(['c:a', 'c:bb']);
      });

      it('`[a-c]` matches one character of a range', async () => {
        await seed(['c:a', 'c:c', 'c:x']);
        expect(await store.deleteMatching('c:[a-c]')).to.equal(2);
        expect(await survivors(['c:a', 'c:c', 'c:x'])).to.deep.equal(['c:x']);
      });

      it('a backslash makes a glob character literal', async () => {
        await seed(['c:a*b', 'c:axb', 'c:a?b', 'c:a[x]b']);
        expect(await store.deleteMatching('c:a\\*b')).to.equal(1);
        expect(await store.deleteMatching('c:a\\?b')).to.equal(1);
        expect(await store.deleteMatching('c:a\\[x\\]b')).to.equal(1);
        expect(await survivors(['c:a*b', 'c:axb', 'c:a?b', 'c:a[x]b'])).to.deep.equal(['c:axb']);
      });

      it('characters that are special in regular expressions match only themselves', async () => {
        await seed(['c:a.b', 'c:axb', 'c:(x)+$', 'c:^a|b']);
        expect(await store.deleteMatching('c:a.b')).to.equal(1);
        expect(await store.deleteMatching('c:(x)+$')).to.equal(1);
        expect(await store.deleteMatching('c:^a|b')).to.equal(1);
        expect(await survivors(['c:a.b', 'c:axb', 'c:(x)+$', 'c:^a|b'])).to.deep.equal(['c:axb']);
      });

      it('answers 0 when nothing matches', async () => {
        await seed(['c:a']);
        expect(await store.deleteMatching('c:zzz*')).to.equal(0);
        expect(await survivors(['c:a'])).to.deep.equal(['c:a']);
      });

      it('deletes matches beyond one batch', async () => {
        const keys = Array.from({ length: 1_200 }, (_, index) => `c:bulk:${index}`);
        await Promise.all(keys.map((key) => put(key)));
        await put('c:keep');
        expect(await store.deleteMatching('c:bulk:*')).to.equal(keys.length);
        expect(await survivors([...keys, 'c:keep'])).to.deep.equal(['c:keep']);
      });

      it('deletes entries only: a tag index that matches the pattern keeps working', async () => {
        const tagKey = 'c:__ca:tag:item:1';
        await put('c:list', 'list', MINUTE_MS, [tagKey]);
        expect(await store.deleteMatching('c:*:1')).to.equal(0);
        expect((await store.deleteTagged([tagKey])).deleted).to.equal(1);
        expect(await store.get('c:list')).to.equal(undefined);
      });
    });

    describe('leases: no stale set', () => {
      const tag = (name: string) => `c:__ca:tag:${name}`;
      const lease = async () => leaseOf(store)();
      const putLeased = (key: string, value: string, taken: Lease, tagKeys: string[] = []) =>
        store.set(key, bytes(value), { ttlMs: MINUTE_MS, tagKeys, lease: taken });
      const storedText = async (key: string) => (await store.get(key))?.toString('utf8');

      // Each case: a load takes its lease, then (while it "reads its source") an invalidation comes and
      // is acknowledged; the load's write afterwards must not land.
      const crossings: [string, () => Promise<unknown>][] = [
        ['its key is deleted', () => store.delete(['c:item'])],
        ['one of its tags is invalidated', () => store.deleteTagged([tag('items')])],
        ['a pattern matching it is invalidated', () => store.deleteMatching('c:it*', 'c:__ca:')],
        ['its key is expired', () => store.expire('c:item', 0)],
        ['the application writes the key itself', () => put('c:item', 'v2')],
      ];
      for (const [crossing, invalidate] of crossings) {
        it(`refuses a load's write when ${crossing} after the load began`, async () => {
          await put('c:item', 'v0', MINUTE_MS, [tag('items')]);
          const taken = await lease();
          await invalidate();
          const afterInvalidation = await storedText('c:item');
          expect(await putLeased('c:item', 'v1', taken, [tag('items')])).to.equal('invalidated');
          expect(await storedText('c:item'), 'the store holds what it held after the invalidation').to.equal(
            afterInvalidation,
          );
        });
      }

      it('stores a write whose lease was taken after the invalidation', async () => {
        await put('c:item', 'v0', MINUTE_MS, [tag('items')]);
        await store.deleteTagged([tag('items')]);
        await store.delete(['c:item']);
        const taken = await lease();
        expect(await putLeased('c:item', 'v1', taken, [tag('items')])).to.equal('stored');
        expect(await storedText('c:item')).to.equal('v1');
        // Indexed under its tag as any write.
        await store.deleteTagged([tag('items')]);
        expect(await storedText('c:item')).to.equal(undefined);
      });

      it('is not voided by invalidations of other keys and tags', async () => {
        const taken = await lease();
        await put('c:other', 'x', MINUTE_MS, [tag('others')]);
        await store.delete(['c:other']);
        await store.deleteTagged([tag('others')]);
        expect(await putLeased('c:item', 'v1', taken, [tag('items')])).to.equal('stored');
        expect(await storedText('c:item')).to.equal('v1');
      });

      it("keeps the application's own write over a load that began before it", async () => {
        const taken = await lease();
        await put('c:item', 'written by the application');
        expect(await putLeased('c:item', 'loaded before', taken)).to.equal('invalidated');
        expect(await storedText('c:item')).to.equal('written by the application');
      });

      it('refuses a write whose lease is older than MAX_LEASE_AGE_MS', async () => {
        const taken = await lease();
        const old = { ...taken, startedAtMs: taken.startedAtMs - MAX_LEASE_AGE_MS - 1_000 };
        expect(await putLeased('c:item', 'v1', old)).to.equal('lease-expired');
        expect(await storedText('c:item')).to.equal(undefined);
      });

      describe('renew (a stale entry found still current)', () => {
        const renewal = (taken: Lease, expected: Buffer, times: Buffer) => ({
          offset: 2,
          expected,
          times,
          ttlMs: MINUTE_MS,
          tagKeys: [tag('items')],
          lease: taken,
        });
        const renewOf = (candidate: CacheStore) => {
          if (candidate.renew === undefined) throw new Error(`${candidate.name} has no renew`);
          return candidate.renew.bind(candidate);
        };

        it('rewrites the bytes at the offset in place, keeping the rest, and indexes the tags', async () => {
          await put('c:item', 'ab1234cd');
          const taken = await lease();
          expect(await renewOf(store)('c:item', renewal(taken, bytes('1234'), bytes('5678')))).to.equal(
            'stored',
          );
          expect(await storedText('c:item')).to.equal('ab5678cd');
          await store.deleteTagged([tag('items')]);
          expect(await storedText('c:item')).to.equal(undefined);
        });

        it('says changed when the entry is not the one read (replaced or gone), and writes nothing', async () => {
          await put('c:item', 'ab9999cd');
          const taken = await lease();
          expect(await renewOf(store)('c:item', renewal(taken, bytes('1234'), bytes('5678')))).to.equal(
            'changed',
          );
          expect(await storedText('c:item')).to.equal('ab9999cd');
          expect(await renewOf(store)('c:gone', renewal(taken, bytes('1234'), bytes('5678')))).to.equal(
            'changed',
          );
          expect(await store.get('c:gone')).to.equal(undefined);
        });

        it('is refused under a lease that an invalidation of the entry voided', async () => {
          await put('c:item', 'ab1234cd');
          const taken = await lease();
          await store.expire('c:item', 60);
          expect(await renewOf(store)('c:item', renewal(taken, bytes('1234'), bytes('5678')))).to.equal(
            'invalidated',
          );
          expect(await storedText('c:item')).to.equal('ab1234cd');
        });
      });

      it('counts each invalidation: a later lease has a higher generation', async () => {
        const first = await lease();
        await store.delete(['c:item']);
        const second = await lease();
        expect(second.generation).to.be.greaterThan(first.generation);
      });
    });

    describe('acquireLock and releaseLock', () => {
      it('grants a free lock once: a second holder is refused while it is held', async () => {
        expect(await store.acquireLock('c:lock', 'token-a', MINUTE_MS)).to.equal(true);
        expect(await store.acquireLock('c:lock', 'token-b', MINUTE_MS)).to.equal(false);
        expect(await store.acquireLock('c:lock', 'token-a', MINUTE_MS)).to.equal(false);
      });

      it('releases only for the token that holds the lock (compare and delete)', async () => {
        await store.acquireLock('c:lock', 'token-a', MINUTE_MS);
        expect(await store.releaseLock('c:lock', 'token-b')).to.equal(false);
        expect(await store.acquireLock('c:lock', 'token-b', MINUTE_MS)).to.equal(false);
        expect(await store.releaseLock('c:lock', 'token-a')).to.equal(true);
        expect(await store.acquireLock('c:lock', 'token-b', MINUTE_MS)).to.equal(true);
      });

      it('answers false when releasing a lock nobody holds', async () => {
        expect(await store.releaseLock('c:lock', 'token-a')).to.equal(false);
      });

      it('lets a lock expire after its ttlMs, and the late holder cannot release the new one', async () => {
        expect(await store.acquireLock('c:lock', 'token-a', SHORT_TTL_MS)).to.equal(true);
        await eventually(() => store.acquireLock('c:lock', 'token-b', MINUTE_MS));
        expect(await store.releaseLock('c:lock', 'token-a')).to.equal(false);
        expect(await store.acquireLock('c:lock', 'token-c', MINUTE_MS)).to.equal(false);
        expect(await store.releaseLock('c:lock', 'token-b')).to.equal(true);
      });

      it('keeps locks of different keys apart', async () => {
        expect(await store.acquireLock('c:lock:1', 'token-a', MINUTE_MS)).to.equal(true);
        expect(await store.acquireLock('c:lock:2', 'token-a', MINUTE_MS)).to.equal(true);
      });
    });

    describe('acquireLockAndGet', () => {
      // The lock and the entry sit in different hash slots, and (the {tag} keys) in one.
      for (const [lockKey, entryKey] of [
        ['c:lock:item', 'c:item'],
        ['c:lock:{item}', 'c:{item}'],
      ] as const) {
        it(`takes a free lock and reads the entry with it (${lockKey}, ${entryKey})`, async () => {
          const acquireLockAndGet = lockAndGetOf(store);
          expect(await acquireLockAndGet(lockKey, 'token-a', MINUTE_MS, entryKey)).to.deep.equal({
            acquired: true,
            value: undefined,
          });
          expect(await store.releaseLock(lockKey, 'token-a')).to.equal(true);
          await put(entryKey, 'stored by the previous holder');
          const found = await acquireLockAndGet(lockKey, 'token-b', MINUTE_MS, entryKey);
          expect(found.acquired && found.value?.toString('utf8')).to.equal('stored by the previous holder');
          expect(await acquireLockAndGet(lockKey, 'token-c', MINUTE_MS, entryKey), 'held').to.deep.equal({
            acquired: false,
          });
          expect(await store.releaseLock(lockKey, 'token-c'), 'the refused token holds nothing').to.equal(
            false,
          );
          expect(await store.releaseLock(lockKey, 'token-b')).to.equal(true);
        });
      }

      it('gives the lock its ttlMs', async () => {
        const acquireLockAndGet = lockAndGetOf(store);
        expect((await acquireLockAndGet('c:lock', 'token-a', SHORT_TTL_MS, 'c:entry')).acquired).to.equal(
          true,
        );
        await eventually(() => store.acquireLock('c:lock', 'token-b', MINUTE_MS));
      });
    });
  });
}

/** The optional `readLease`, which every store of this package has. */
function leaseOf(store: CacheStore): NonNullable<CacheStore['readLease']> {
  if (store.readLease === undefined) throw new Error(`${store.name} has no readLease`);
  return store.readLease.bind(store);
}

/** The optional `acquireLockAndGet`, which every store of this package has. */
function lockAndGetOf(store: CacheStore): NonNullable<CacheStore['acquireLockAndGet']> {
  if (store.acquireLockAndGet === undefined) throw new Error(`${store.name} has no acquireLockAndGet`);
  return store.acquireLockAndGet.bind(store);
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`, which bounds a hang, not speed. */
async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

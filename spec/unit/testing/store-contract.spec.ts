import { expect } from 'chai';
import {
  describeStoreContract,
  type OptionalStoreCapability,
  type StoreContractOptions,
  type StoreContractTestFunctions,
} from 'express-cache-aside/testing';
import type { CacheStore } from '../../../src/store/cache-store.js';
import { MemoryStore } from '../../../src/store/memory-store.js';

/** A store of a third party that has the required methods only: no leases, no renew, no lock-then-get. */
function requiredMethodsOf(store: MemoryStore): CacheStore {
  return {
    name: 'required-only',
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    set: async (key, value, options) => {
      await store.set(key, value, { ttlMs: options.ttlMs, tagKeys: options.tagKeys ?? [] });
    },
    delete: (keys) => store.delete(keys),
    deleteTagged: (tagKeys) => store.deleteTagged(tagKeys),
    deleteMatching: (pattern, exceptPrefix) => store.deleteMatching(pattern, exceptPrefix),
    ttlSeconds: (key) => store.ttlSeconds(key),
    expire: (key, seconds) => store.expire(key, seconds),
    acquireLock: (key, token, ttlMs) => store.acquireLock(key, token, ttlMs),
    releaseLock: (key, token) => store.releaseLock(key, token),
  };
}

describeStoreContract(
  { describe, it, beforeEach, afterEach },
  {
    name: 'A store with the required methods only',
    create: () => ({ store: requiredMethodsOf(new MemoryStore()) }),
  },
);

type Body = () => Promise<void>;

const EVERY_CAPABILITY: OptionalStoreCapability[] = [
  'readLease',
  'renew',
  'acquireLockAndGet',
  'acquireLockAndGetWithLease',
  'setAndReleaseLock',
  'scanKeys',
  'scanTagMembers',
];

/** A test framework that only records what the contract registers, to run chosen cases by hand. */
function recordContract(options: StoreContractOptions) {
  const cases = new Map<string, Body>();
  const before: Body[] = [];
  const after: Body[] = [];
  const path: string[] = [];
  const test: StoreContractTestFunctions = {
    describe(name, body) {
      path.push(name);
      body();
      path.pop();
    },
    it(name, body) {
      cases.set([...path, name].join(' / '), body);
    },
    beforeEach: (body) => before.push(body),
    afterEach: (body) => after.push(body),
  };
  describeStoreContract(test, options);
  const names = [...cases.keys()];
  /** Runs the one case whose name contains `fragment`, between the hooks; resolves to its error. */
  const run = async (fragment: string): Promise<unknown> => {
    const found = names.filter((name) => name.includes(fragment));
    if (found.length !== 1) throw new Error(`${found.length} cases match ${fragment}`);
    const body = cases.get(found[0] as string) as Body;
    for (const hook of before) await hook();
    try {
      await body();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      for (const hook of after) await hook();
    }
  };
  return { names, run, cases };
}

describe('describeStoreContract', () => {
  const memory = (capabilities?: OptionalStoreCapability[]): StoreContractOptions => ({
    name: 'S',
    create: () => ({ store: new MemoryStore() }),
    ...(capabilities === undefined ? {} : { capabilities }),
  });

  it("registers an optional method's cases only when the store declares it", () => {
    const none = recordContract(memory()).names;
    const all = recordContract(memory(EVERY_CAPABILITY)).names;
    const leases = recordContract(memory(['readLease'])).names;
    const grouped = (names: string[], group: string) => names.filter((name) => name.includes(` / ${group}`));
    expect(none[0]).to.equal(
      'S honours the store contract / offers exactly the optional methods it declares (none)',
    );
    expect(grouped(none, 'leases')).to.deep.equal([]);
    expect(grouped(none, 'acquireLockAndGet')).to.deep.equal([]);
    expect(grouped(all, 'leases')).to.have.lengthOf(14);
    expect(grouped(all, 'acquireLockAndGet /')).to.have.lengthOf(3);
    expect(grouped(none, 'acquireLockAndGetWithLease')).to.deep.equal([]);
    expect(grouped(all, 'acquireLockAndGetWithLease')).to.have.lengthOf(4);
    expect(grouped(leases, 'leases')).to.have.lengthOf(10);
    expect(grouped(none, 'scan')).to.deep.equal([]);
    expect(grouped(all, 'scanKeys')).to.have.lengthOf(4);
    expect(grouped(all, 'scanTagMembers')).to.have.lengthOf(2);
    expect(grouped(none, 'setAndReleaseLock')).to.deep.equal([]);
    expect(grouped(all, 'setAndReleaseLock')).to.have.lengthOf(4);
    expect(all.length - none.length).to.equal(31);
  });

  it('fails a store that offers an optional method it does not declare, so that its contract is checked', async () => {
    const error = await recordContract(memory(['readLease', 'renew'])).run('offers exactly');
    expect(String(error)).to.include(
      "memory has acquireLockAndGet: add 'acquireLockAndGet' to capabilities, so that its contract is checked",
    );
  });

  it('fails a store that declares an optional method it does not have, in its own cases too', async () => {
    const leasesOnly = (): CacheStore => {
      const memory = new MemoryStore();
      return { ...requiredMethodsOf(memory), readLease: () => memory.readLease() };
    };
    const missing = recordContract({
      name: 'S',
      create: () => ({ store: requiredMethodsOf(new MemoryStore()) }),
      capabilities: EVERY_CAPABILITY,
    });
    expect(String(await missing.run('offers exactly'))).to.include(
      'required-only declares readLease but has no such method',
    );
    expect(String(await missing.run('counts each invalidation'))).to.include('declares readLease');
    expect(String(await missing.run('acquireLockAndGet / gives the lock its ttlMs'))).to.include(
      'declares acquireLockAndGet',
    );
    expect(String(await missing.run('acquireLockAndGetWithLease / gives the lock its ttlMs'))).to.include(
      'declares acquireLockAndGetWithLease',
    );
    expect(String(await missing.run('walks every entry matching'))).to.include('declares scanKeys');
    expect(String(await missing.run('walks every key a tag lists'))).to.include('declares scanTagMembers');
    const withoutRenew = recordContract({
      name: 'S',
      create: () => ({ store: leasesOnly() }),
      capabilities: ['readLease', 'renew'],
    });
    expect(String(await withoutRenew.run('rewrites the bytes at the offset'))).to.include('declares renew');
  });

  it('passes a store that offers exactly what it declares', async () => {
    const contract = recordContract(memory(EVERY_CAPABILITY));
    expect(await contract.run('offers exactly')).to.equal(undefined);
    expect(await contract.run('rewrites the bytes at the offset')).to.equal(undefined);
    expect(await contract.run('with a member, finds only')).to.equal(undefined);
  });

  it('fails a store whose lease given with the lock lets a stale set in', async () => {
    const ignoresInvalidations = (): CacheStore => {
      const memory = new MemoryStore();
      return Object.assign(memory, {
        acquireLockAndGetWithLease: async (lockKey: string, token: string, ttlMs: number, key: string) => {
          const found = await memory.acquireLockAndGet(lockKey, token, ttlMs, key);
          return { ...found, lease: { generation: Number.MAX_SAFE_INTEGER, startedAtMs: Date.now() } };
        },
      });
    };
    const contract = recordContract({
      name: 'S',
      create: () => ({ store: ignoresInvalidations() }),
      capabilities: EVERY_CAPABILITY,
    });
    const error = await contract.run('when its key is invalidated after the lease was given');
    expect(error).to.be.instanceOf(Error);
    expect((error as { actual?: unknown }).actual).to.equal('stored');
  });

  it('refuses renew without readLease, and an unknown capability, when the suite is registered', () => {
    expect(() => recordContract(memory(['renew']))).to.throw(TypeError, 'needs `readLease`');
    expect(() => recordContract(memory(['acquireLockAndGet', 'acquireLockAndGetWithLease']))).to.throw(
      TypeError,
      'needs `readLease` and `acquireLockAndGet`',
    );
    expect(() => recordContract(memory(['lease' as OptionalStoreCapability]))).to.throw(
      TypeError,
      'unknown store capability "lease"',
    );
  });

  it('runs cleanup after each case, and says so when a case runs without its store', async () => {
    let cleanups = 0;
    const contract = recordContract({
      name: 'S',
      create: () => ({ store: new MemoryStore(), cleanup: () => cleanups++ }),
    });
    await contract.run('reads a missing key');
    expect(cleanups).to.equal(1);
    const outside = contract.cases.get(
      'S honours the store contract / get and set / reads a missing key as undefined',
    );
    const error = await (outside as Body)().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(String(error)).to.include('no store: the case ran outside its beforeEach');
  });
});

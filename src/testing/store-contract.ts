import assert from 'node:assert/strict';
import type { CacheStore } from '../store/cache-store.js';
import type { ContractSuite } from './contract-suite.js';
import { describeEntryCases } from './entry-cases.js';
import { describeInspectionCases } from './inspection-cases.js';
import { describeInvalidationCases } from './invalidation-cases.js';
import { describeLeaseCases } from './lease-cases.js';
import { describeLockCases } from './lock-cases.js';
import { describeLockWithLeaseCases } from './lock-with-lease-cases.js';

/**
 * The functions of the test framework that runs the contract: mocha's, jest's, vitest's or
 * `node:test`'s globals fit as they are. The suite imports no framework; it asserts with `node:assert`.
 */
export interface StoreContractTestFunctions {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  beforeEach(body: () => Promise<void>): unknown;
  afterEach(body: () => Promise<void>): unknown;
}

/** A store over an empty backend, and how to empty that backend again once a case is done. */
export interface StoreUnderTest {
  store: CacheStore;
  /** Runs after each case (e.g. `() => client.flushAll()`); default: nothing. */
  cleanup?: () => unknown;
}

/** The optional methods of {@link CacheStore} that have cases of their own. */
export type OptionalStoreCapability =
  | 'readLease'
  | 'renew'
  | 'acquireLockAndGet'
  | 'acquireLockAndGetWithLease'
  | 'setAndReleaseLock'
  | 'scanKeys'
  | 'scanTagMembers';

const OPTIONAL_CAPABILITIES: readonly OptionalStoreCapability[] = [
  'readLease',
  'renew',
  'acquireLockAndGet',
  'acquireLockAndGetWithLease',
  'setAndReleaseLock',
  'scanKeys',
  'scanTagMembers',
];

/** Which store the contract runs against, and what it offers beyond the required methods. */
export interface StoreContractOptions {
  /** Names the suite: `<name> honours the store contract`. */
  name: string;
  /** Builds the store for one case, over an empty backend; called before each case. */
  create(): StoreUnderTest | Promise<StoreUnderTest>;
  /**
   * The optional methods the store offers, whose own cases then run (`renew` needs `readLease`, `acquireLockAndGetWithLease` needs `readLease` and `acquireLockAndGet`).
   * Default: none. One case checks that the store offers exactly these, so that a method it has
   * cannot go unchecked, nor a declared one be missing.
   */
  capabilities?: readonly OptionalStoreCapability[];
}

/**
 * Registers the behaviour every {@link CacheStore} must share, so that the cache cannot tell one
 * backend from another: the required methods always, each optional one when `capabilities` names it.
 *
 * @example
 * describeStoreContract({ describe, it, beforeEach, afterEach }, {
 *   name: 'MyStore',
 *   create: () => ({ store: new MyStore(client), cleanup: () => client.flushAll() }),
 *   capabilities: ['acquireLockAndGet', 'scanKeys'],
 * });
 */
export function describeStoreContract(test: StoreContractTestFunctions, options: StoreContractOptions): void {
  const declared = new Set(options.capabilities ?? []);
  for (const capability of declared) {
    if (!OPTIONAL_CAPABILITIES.includes(capability)) {
      throw new TypeError(
        `unknown store capability ${JSON.stringify(capability)}: expected one of ${OPTIONAL_CAPABILITIES.join(', ')}`,
      );
    }
  }
  if (declared.has('renew') && !declared.has('readLease')) {
    throw new TypeError('a store with `renew` needs `readLease`: a renewal carries the lease of its load');
  }
  if (
    declared.has('acquireLockAndGetWithLease') &&
    !(declared.has('readLease') && declared.has('acquireLockAndGet'))
  ) {
    throw new TypeError(
      'a store with `acquireLockAndGetWithLease` needs `readLease` and `acquireLockAndGet`: it does both at once',
    );
  }

  test.describe(`${options.name} honours the store contract`, () => {
    let current: StoreUnderTest | undefined;
    const suite: ContractSuite = {
      test,
      store: () => {
        if (current === undefined) throw new Error('no store: the case ran outside its beforeEach');
        return current.store;
      },
    };

    test.beforeEach(async () => {
      current = await options.create();
    });

    test.afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.cleanup?.();
    });

    const listed = declared.size === 0 ? 'none' : [...declared].join(', ');
    test.it(`offers exactly the optional methods it declares (${listed})`, async () => {
      const store = suite.store();
      for (const capability of OPTIONAL_CAPABILITIES) {
        const offered = typeof store[capability] === 'function';
        assert.equal(
          offered,
          declared.has(capability),
          offered
            ? `${store.name} has ${capability}: add '${capability}' to capabilities, so that its contract is checked`
            : `${store.name} declares ${capability} but has no such method`,
        );
      }
    });

    describeEntryCases(suite);
    describeInvalidationCases(suite);
    if (declared.has('readLease')) describeLeaseCases(suite, { renew: declared.has('renew') });
    describeLockCases(suite, {
      acquireLockAndGet: declared.has('acquireLockAndGet'),
      setAndReleaseLock: declared.has('setAndReleaseLock'),
      readLease: declared.has('readLease'),
    });
    if (declared.has('acquireLockAndGetWithLease')) describeLockWithLeaseCases(suite);
    describeInspectionCases(suite, {
      scanKeys: declared.has('scanKeys'),
      scanTagMembers: declared.has('scanTagMembers'),
    });
  });
}

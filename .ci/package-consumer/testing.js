// (g) The store contract as a store's author runs it: `express-cache-aside/testing` from the tarball,
// with node:test's functions (no mocha, no chai in the app), against the package's own MemoryStore.
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MemoryStore } from 'express-cache-aside';
import { describeStoreContract } from 'express-cache-aside/testing';

describeStoreContract(
  { describe, it, beforeEach, afterEach },
  {
    name: 'MemoryStore',
    create: () => ({ store: new MemoryStore() }),
    capabilities: [
      'readLease',
      'renew',
      'acquireLockAndGet',
      'acquireLockAndGetWithLease',
      'setAndReleaseLock',
      'scanKeys',
      'scanTagMembers',
    ],
  },
);

import { describeStoreContract } from 'express-cache-aside/testing';
import type { CacheStore } from '../../src/index.js';

/**
 * Runs the store contract against a Redis-backed store twice: as `create` makes it by default, and
 * with batches of 2, so that every multi-key command is split. `cleanup` empties Redis after each test.
 * `leaseWithLock`: whether the store reads a lease in its lock's script (not on a Cluster, whose lease
 * counter has a slot of its own unless the namespace has a hash tag).
 */
export function describeRedisStoreContract(
  name: string,
  create: (options?: { batchSize: number }) => CacheStore,
  cleanup: () => unknown,
  leaseWithLock: boolean,
): void {
  const runs = [
    { name, options: undefined },
    { name: `${name} with batches of 2`, options: { batchSize: 2 } },
  ];
  for (const run of runs) {
    describeStoreContract(
      { describe, it, beforeEach, afterEach },
      {
        name: run.name,
        create: () => ({ store: create(run.options), cleanup }),
        capabilities: [
          'readLease',
          'renew',
          'acquireLockAndGet',
          ...(leaseWithLock ? (['acquireLockAndGetWithLease'] as const) : []),
          'setAndReleaseLock',
          'scanKeys',
          'scanTagMembers',
        ],
      },
    );
  }
}

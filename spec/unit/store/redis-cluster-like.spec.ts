import { expect } from 'chai';
import { createClient, createCluster, createSentinel, RESP_TYPES } from 'redis';
import type { RedisClientLike } from '../../../src/store/redis-client-like.js';
import { isRedisClusterLike } from '../../../src/store/redis-cluster-like.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';

// Clients are built, never connected: detection must work on the objects alone.
describe('isRedisClusterLike', () => {
  it('recognises a node-redis createCluster() client and its withTypeMapping() view', () => {
    const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
    expect(isRedisClusterLike(cluster)).to.equal(true);
    // The view's Buffer-typed replies are not RedisClientLike's; what matters is its shape at run time.
    const view = cluster.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as RedisClientLike;
    expect(isRedisClusterLike(view)).to.equal(true);
  });

  it('does not take a createClient() or createSentinel() client for a cluster', () => {
    expect(isRedisClusterLike(createClient({ url: 'redis://127.0.0.1:1' }))).to.equal(false);
    const sentinel = createSentinel({ name: 'm', sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }] });
    expect(isRedisClusterLike(sentinel)).to.equal(false);
  });

  it('does not take a client that has masters but no way to reach them for a cluster', () => {
    const lookalike = Object.assign(createStubRedisClient(), { masters: [] });
    expect(isRedisClusterLike(lookalike)).to.equal(false);
  });
});

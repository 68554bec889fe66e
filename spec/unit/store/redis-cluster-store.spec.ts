import { expect } from 'chai';
import sinon from 'sinon';
import type { RedisClusterLike, RedisNodeClientLike } from '../../../src/store/redis-cluster-like.js';
import { RedisClusterStore } from '../../../src/store/redis-cluster-store.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';

/** A stubbed cluster of `masters.length` masters whose node clients answer SCAN with `masters[i]`. */
function stubCluster(masters: (string[] | Error)[]) {
  const nodes = masters.map((_, index) => ({ id: `master-${index}` }));
  const nodeClient = sinon.stub<[object], Promise<RedisNodeClientLike>>().callsFake(async (node) => {
    const keys = masters[nodes.indexOf(node as { id: string })];
    if (keys instanceof Error) throw keys;
    return { scan: async () => ({ cursor: '0', keys: keys ?? [] }) };
  });
  const client = Object.assign(createStubRedisClient(), {
    masters: nodes,
    nodeClient,
    getSlotRandomNode: sinon.stub(),
  });
  client.unlink.callsFake(async (keys) => keys.length);
  return { client: client satisfies RedisClusterLike, nodeClient };
}

// Command shapes only; behaviour on a real Cluster is in spec/integration/cluster.
describe('RedisClusterStore commands (stubbed cluster)', () => {
  it('scans every master, and deletes what each one matched', async () => {
    const { client, nodeClient } = stubCluster([['c:a'], ['c:b', 'c:c'], []]);
    expect(await new RedisClusterStore(client).deleteMatching('c:*')).to.equal(3);
    expect(nodeClient.callCount).to.equal(3);
  });

  it('fails the whole call when one master cannot be reached, rather than half-invalidating silently', async () => {
    const { client } = stubCluster([['c:a'], new Error('connect ECONNREFUSED')]);
    let failure: unknown;
    await new RedisClusterStore(client).deleteMatching('c:*').catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(Error).with.property('message', 'connect ECONNREFUSED');
  });

  it('sends no MGET for an empty list of keys', async () => {
    const { client } = stubCluster([]);
    expect(await new RedisClusterStore(client).getMany([])).to.deep.equal([]);
    expect(client.mGet.called).to.equal(false);
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import type {
  ClusterNodeLike,
  RedisClusterLike,
  RedisNodeClientLike,
} from '../../../src/store/redis-cluster-like.js';
import { RedisClusterStore } from '../../../src/store/redis-cluster-store.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';

/**
 * A stubbed cluster of `masters.length` masters, each owning an equal run of slots, whose node clients
 * answer SCAN with `masters[i]` and run scripts (the pattern stamps) without effect.
 */
function stubCluster(masters: (string[] | Error)[]) {
  const nodes = masters.map((_, index) => ({ id: `master-${index}`, address: `127.0.0.1:${7000 + index}` }));
  const scans = sinon.stub<[], void>();
  const scripts: { node: string; keys: string[] }[] = [];
  const nodeClient = sinon.stub<[ClusterNodeLike], Promise<RedisNodeClientLike>>().callsFake(async (node) => {
    const { id } = node as (typeof nodes)[number];
    const keys = masters[nodes.indexOf(node as (typeof nodes)[number])];
    if (keys instanceof Error) throw keys;
    const run = async (_script: string, options: { arguments: (string | Buffer)[] }) => {
      const stamps = options.arguments.slice(2).map(String);
      scripts.push({ node: id, keys: stamps });
      return stamps.length;
    };
    return {
      scan: async () => {
        scans();
        return { cursor: '0', keys: keys ?? [] };
      },
      eval: run,
      evalSha: run,
    };
  });
  const slots = Array.from({ length: 16_384 }, (_, slot) => ({
    master: nodes[Math.floor((slot * nodes.length) / 16_384)] as ClusterNodeLike,
  }));
  const client = Object.assign(createStubRedisClient(), {
    masters: nodes,
    slots,
    nodeClient,
    getSlotRandomNode: sinon.stub(),
  });
  client.unlink.callsFake(async (keys) => keys.length);
  return { client: client satisfies RedisClusterLike, nodeClient, scans, scripts };
}

// Command shapes only; behaviour on a real Cluster is in spec/integration/cluster.
describe('RedisClusterStore commands (stubbed cluster)', () => {
  it('scans every master, and deletes what each one matched', async () => {
    const { client, scans, scripts } = stubCluster([['c:a'], ['c:b', 'c:c'], []]);
    expect(await new RedisClusterStore(client).deleteMatching('c:*')).to.equal(3);
    expect(scans.callCount).to.equal(3);
    // First, one script per master stamps the pattern in each of the slots it owns: 16,384 in all.
    expect(scripts.map((script) => script.node)).to.deep.equal(['master-0', 'master-1', 'master-2']);
    expect(new Set(scripts.flatMap((script) => script.keys)).size).to.equal(16_384);
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

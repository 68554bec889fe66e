import sinon from 'sinon';
import { keySlot, SLOT_COUNT } from '../../src/keys/key-slot.js';
import type {
  ClusterNodeLike,
  RedisClusterLike,
  RedisNodeClientLike,
} from '../../src/store/redis-cluster-like.js';
import { createStubRedisClient } from './stub-redis-client.js';

/** A stubbed master: its address, and what SCAN finds on it (or the error reaching it throws). */
interface StubMaster extends ClusterNodeLike {
  readonly id: string;
}

/**
 * A node-redis-like cluster client of `masters.length` masters (at `127.0.0.1:7000`, `:7001`, …), each
 * owning an equal run of slots, for unit specs: its key commands are the stubs of
 * {@link createStubRedisClient}; its node clients answer SCAN with `masters[i]` (or fail with it) and
 * run scripts (the pattern stamps) without effect, recorded in `scripts`.
 */
export function createStubRedisCluster(masters: readonly (string[] | Error)[]) {
  const nodes: StubMaster[] = masters.map((_, index) => ({
    id: `master-${index}`,
    address: `127.0.0.1:${7000 + index}`,
  }));
  const scans = sinon.stub<[], void>();
  const scripts: { node: string; keys: string[] }[] = [];
  const nodeClient = sinon.stub<[ClusterNodeLike], Promise<RedisNodeClientLike>>().callsFake(async (node) => {
    const index = nodes.indexOf(node as StubMaster);
    const keys = masters[index];
    if (keys instanceof Error) throw keys;
    const run = async (_script: string, options: { arguments: (string | Buffer)[] }) => {
      const stamps = options.arguments.slice(2).map(String);
      scripts.push({ node: nodes[index]?.id ?? '?', keys: stamps });
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
  const client = Object.assign(createStubRedisClient(), {
    masters: nodes as readonly ClusterNodeLike[],
    slots: slotsOf(nodes),
    nodeClient,
    getSlotRandomNode: sinon.stub(),
  });
  client.unlink.callsFake(async (keys) => keys.length);
  return {
    client: client satisfies RedisClusterLike,
    nodes,
    nodeClient,
    scans,
    scripts,
    /** The address of the master that owns `key`'s slot now. */
    addressOf: (key: string) => client.slots[keySlot(key)]?.master.address as string,
    /**
     * A failover, as node-redis sees it after reading the topology again: master `index` is replaced by
     * a node at `address`, in a new `slots` array and a new `masters` list.
     */
    promote: (index: number, address: string) => {
      nodes[index] = { id: `promoted-${index}`, address };
      client.masters = [...nodes];
      client.slots = slotsOf(nodes);
    },
  };
}

function slotsOf(nodes: readonly ClusterNodeLike[]): { master: ClusterNodeLike }[] {
  return Array.from({ length: SLOT_COUNT }, (_, slot) => ({
    master: nodes[Math.floor((slot * nodes.length) / SLOT_COUNT)] as ClusterNodeLike,
  }));
}

import type { RedisClientLike } from './redis-client-like.js';

/**
 * A connection to one node of a cluster, as `nodeClient()` returns it: SCAN walks that node only, and a
 * script declared cross-slot may touch every key the node holds.
 */
export type RedisNodeClientLike = Pick<RedisClientLike, 'scan' | 'eval' | 'evalSha'>;

/** A node of a cluster as the client describes it (node-redis: a `MasterNode`). */
export interface ClusterNodeLike {
  /** `host:port`: stays the same while the node is up, unlike the object, which a topology refresh replaces. */
  readonly address: string;
}

/**
 * What the cluster store needs of a node-redis `createCluster()` client on top of the commands of
 * {@link RedisClientLike}: the master nodes, and a connection to each of them.
 */
export interface RedisClusterLike extends RedisClientLike {
  /** The masters as the client last saw the topology; every key lives on exactly one of them. */
  readonly masters: readonly ClusterNodeLike[];
  /**
   * The slots as the client last saw the topology: `slots[n].master` owns slot n. node-redis replaces
   * the array when it reads the topology again.
   */
  readonly slots: readonly ({ readonly master: ClusterNodeLike } | undefined)[];
  nodeClient(node: ClusterNodeLike): Promise<RedisNodeClientLike>;
}

/**
 * True for a node-redis cluster client. Detected by shape, not by class, so that a cluster client
 * from another copy of `redis` in node_modules (or a `withTypeMapping()` view of one) still counts.
 */
export function isRedisClusterLike(client: RedisClientLike): client is RedisClusterLike {
  const candidate = client as Partial<Record<'masters' | 'nodeClient' | 'getSlotRandomNode', unknown>>;
  return (
    Array.isArray(candidate.masters) &&
    typeof candidate.nodeClient === 'function' &&
    typeof candidate.getSlotRandomNode === 'function'
  );
}

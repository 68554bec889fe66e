import { keySlot } from '../keys/key-slot.js';
import type { NodeCircuits } from './node-circuits.js';
import type { RedisClientLike } from './redis-client-like.js';
import type { ClusterNodeLike, RedisClusterLike, RedisNodeClientLike } from './redis-cluster-like.js';

/**
 * The circuit of commands the client routes by itself: those without a key, and those whose slot has
 * no known master yet (the client has not read the topology).
 */
const UNROUTED = '(unrouted)';

/**
 * `cluster` with every command sent through the circuit of the master it goes to (see
 * {@link NodeCircuits}): a command for a key passes the circuit of the master that owns the key's
 * slot, a command on a node's own connection (`nodeClient`: SCAN, the pattern stamps) that node's
 * circuit. Views (`withTypeMapping`, `withCommandOptions`) are guarded the same way.
 */
export function guardCluster(cluster: RedisClusterLike, circuits: NodeCircuits): RedisClusterLike {
  return new GuardedCluster(new NodeRouter(cluster, circuits), circuits, cluster);
}

/** Finds the master of a key in the client's latest topology; when that changes, drops stale circuits. */
class NodeRouter {
  readonly cluster: RedisClusterLike;
  readonly #circuits: NodeCircuits;
  #slots: RedisClusterLike['slots'] | undefined;

  constructor(cluster: RedisClusterLike, circuits: NodeCircuits) {
    this.cluster = cluster;
    this.#circuits = circuits;
  }

  /** `host:port` of the master that owns `key`'s slot. */
  nodeOf(key: string | undefined): string {
    const slots = this.cluster.slots;
    // node-redis replaces the array whenever it reads the topology again, so a changed array is the
    // cheap sign of a failover (or a resharding) that may have retired a master.
    if (slots !== this.#slots) {
      this.#slots = slots;
      this.#circuits.retain(new Set(this.cluster.masters.map((master) => master.address)));
    }
    return key === undefined ? UNROUTED : (slots[keySlot(key)]?.master.address ?? UNROUTED);
  }
}

class GuardedCluster implements RedisClusterLike {
  readonly #router: NodeRouter;
  readonly #circuits: NodeCircuits;
  /** The view commands are sent through (type mapping, command options). */
  readonly #client: RedisClientLike;

  constructor(router: NodeRouter, circuits: NodeCircuits, client: RedisClientLike) {
    this.#router = router;
    this.#circuits = circuits;
    this.#client = client;
  }

  get masters(): readonly ClusterNodeLike[] {
    return this.#router.cluster.masters;
  }

  get slots(): RedisClusterLike['slots'] {
    return this.#router.cluster.slots;
  }

  withTypeMapping(mapping: object): RedisClientLike {
    return new GuardedCluster(this.#router, this.#circuits, this.#client.withTypeMapping(mapping));
  }

  withCommandOptions(options: object): RedisClientLike {
    const view = this.#client.withCommandOptions?.(options);
    return view === undefined ? this : new GuardedCluster(this.#router, this.#circuits, view);
  }

  sScan(key: string, cursor: string, options: { COUNT: number }) {
    return this.#onKey(key, 'SSCAN', () => this.#client.sScan(key, cursor, options));
  }

  sIsMember(key: string, member: string) {
    return this.#onKey(key, 'SISMEMBER', () => this.#client.sIsMember(key, member));
  }

  get(key: string) {
    return this.#onKey(key, 'GET', () => this.#client.get(key));
  }

  mGet(keys: string[]) {
    return this.#onKey(keys[0], 'MGET', () => this.#client.mGet(keys));
  }

  set(key: string, value: Buffer, options: object) {
    return this.#onKey(key, 'SET', () => this.#client.set(key, value, options));
  }

  sAdd(key: string, members: string[]) {
    return this.#onKey(key, 'SADD', () => this.#client.sAdd(key, members));
  }

  sPopCount(key: string, count: number) {
    return this.#onKey(key, 'SPOP', () => this.#client.sPopCount(key, count));
  }

  pExpire(key: string, milliseconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT') {
    return this.#onKey(key, 'PEXPIRE', () => this.#client.pExpire(key, milliseconds, mode));
  }

  unlink(keys: string[]) {
    return this.#onKey(keys[0], 'UNLINK', () => this.#client.unlink(keys));
  }

  /** Not sent by the cluster store, which scans each master on its own connection (`nodeClient`). */
  scan(cursor: string, options: { MATCH: string; COUNT: number; TYPE?: string }) {
    return this.#onKey(undefined, 'SCAN', () => this.#client.scan(cursor, options));
  }

  ttl(key: string) {
    return this.#onKey(key, 'TTL', () => this.#client.ttl(key));
  }

  expire(key: string, seconds: number) {
    return this.#onKey(key, 'EXPIRE', () => this.#client.expire(key, seconds));
  }

  eval(script: string, options: { keys: string[]; arguments: (string | Buffer)[] }) {
    return this.#onKey(options.keys[0], 'EVAL', () => this.#client.eval(script, options));
  }

  evalSha(sha1: string, options: { keys: string[]; arguments: (string | Buffer)[] }) {
    return this.#onKey(options.keys[0], 'EVALSHA', () => this.#client.evalSha(sha1, options));
  }

  async nodeClient(node: ClusterNodeLike): Promise<RedisNodeClientLike> {
    const { address } = node;
    const circuits = this.#circuits;
    const client = await circuits.runOn(address, 'connect', () => this.#router.cluster.nodeClient(node));
    return {
      scan: (cursor, options) => circuits.runOn(address, 'SCAN', () => client.scan(cursor, options)),
      eval: (script, options) => circuits.runOn(address, 'EVAL', () => client.eval(script, options)),
      evalSha: (sha1, options) => circuits.runOn(address, 'EVALSHA', () => client.evalSha(sha1, options)),
    };
  }

  #onKey<T>(key: string | undefined, label: string, task: () => Promise<T>): Promise<T> {
    return this.#circuits.runOn(this.#router.nodeOf(key), label, task);
  }
}

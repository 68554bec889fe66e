import { keySlot, SLOT_COUNT } from '../keys/key-slot.js';
import {
  type KeyScan,
  type LockAndValue,
  PartialReadError,
  type ScanPage,
  STAMP_TTL_MS,
} from './cache-store.js';
import { groupBySlot } from './group-by-slot.js';
import { lockThenGet } from './lock-then-get.js';
import { type RedisClientLike, withoutClientTimeout } from './redis-client-like.js';
import type { ClusterNodeLike, RedisClusterLike } from './redis-cluster-like.js';
import { BUFFER_REPLIES, RedisStore, type RedisStoreOptions, toBuffer } from './redis-store.js';
import { STAMP_SLOTS_SCRIPT } from './stamp-scripts.js';

/**
 * A {@link RedisStore} over a node-redis `createCluster()` client. Single-key commands (GET, SET,
 * the tag index sets, locks) are routed by the client as they are; a tag index set and its entries
 * may sit on different nodes, which is fine because each command touches one key. The multi-key
 * commands are split so that none spans two hash slots (the server would answer CROSSSLOT), and
 * SCAN, which sees one node's keys only, runs on every master.
 */
export class RedisClusterStore extends RedisStore {
  override readonly name = 'redis-cluster';
  readonly #cluster: RedisClusterLike;
  readonly #bytes: RedisClientLike;
  readonly #batchSize: number;

  constructor(cluster: RedisClusterLike, options: RedisStoreOptions = {}) {
    super(cluster, options);
    this.#cluster = cluster;
    this.#bytes = withoutClientTimeout(cluster).withTypeMapping(BUFFER_REPLIES);
    this.#batchSize = options.batchSize ?? 500;
  }

  /**
   * One MGET per hash slot, all sent at once: node-redis pipelines those bound for one node. When some
   * fail (their master is down) and others answer, rejects with what was read: a `PartialReadError`.
   */
  override async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const values: (Buffer | undefined)[] = keys.map(() => undefined);
    const failures: unknown[] = [];
    const groups = groupBySlot(keys);
    await Promise.all(
      groups.map(async ({ keys: slotKeys, indices }) => {
        try {
          const replies = await this.#bytes.mGet(slotKeys);
          indices.forEach((index, i) => {
            values[index] = toBuffer(replies[i]);
          });
        } catch (error) {
          failures.push(error);
        }
      }),
    );
    if (failures.length === groups.length && failures.length > 0) throw failures[0];
    if (failures.length > 0) throw new PartialReadError(values, failures[0]);
    return values;
  }

  /**
   * The one-round-trip script when the lock and the entry share a hash slot; otherwise they may live
   * on different nodes, where no script reaches both, so the entry is read after the lock is taken.
   */
  override async acquireLockAndGet(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LockAndValue> {
    if (keySlot(lockKey) === keySlot(key)) {
      return super.acquireLockAndGet(lockKey, token, ttlMs, key);
    }
    return lockThenGet(this, lockKey, token, ttlMs, key);
  }

  /**
   * SCAN walks one node's keys: the walk goes through the masters one after the other, its cursor
   * `<master>:<node cursor>` (the masters in the order the client lists them; a walk across a topology
   * change may miss keys, as a SCAN across a failover may). A tag index set is a single key, so
   * `scanTagMembers` pages it on the node that holds it as it is.
   */
  override async scanKeys(cursor: string, search: KeyScan): Promise<ScanPage<string>> {
    const masters = this.#cluster.masters;
    const separatorAt = cursor.indexOf(':');
    const index = separatorAt === -1 ? 0 : Number(cursor.slice(0, separatorAt));
    const nodeCursor = separatorAt === -1 ? cursor : cursor.slice(separatorAt + 1);
    const master = masters[index];
    if (!Number.isInteger(index) || master === undefined) {
      throw new TypeError(`scanKeys: cursor ${JSON.stringify(cursor)} names no master of this cluster`);
    }
    const page = await this.scanKeysOn(await this.#cluster.nodeClient(master), nodeCursor, search);
    if (page.cursor !== '0') return { cursor: `${index}:${page.cursor}`, items: page.items };
    return { cursor: index + 1 < masters.length ? `${index + 1}:0` : '0', items: page.items };
  }

  protected override slotOf(key: string): number {
    return keySlot(key);
  }

  /**
   * One pattern stamp per slot, so that the write script of any entry checks the one in its own slot:
   * set with one cross-slot script per master (16,384 separate calls would take seconds).
   */
  protected override async stampPatterns(generation: string): Promise<void> {
    const bySlot = this.stampKeys.patterns([0, 1]);
    if (bySlot.length === 1) return super.stampPatterns(generation);
    const byMaster = new Map<ClusterNodeLike, string[]>();
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const master = this.#cluster.slots[slot]?.master;
      if (master === undefined)
        throw new Error(`slot ${slot} has no known master: the topology is incomplete`);
      const stamps = byMaster.get(master);
      if (stamps === undefined) byMaster.set(master, [this.stampKeys.pattern(slot)]);
      else stamps.push(this.stampKeys.pattern(slot));
    }
    await Promise.all(
      [...byMaster].map(async ([master, stamps]) =>
        STAMP_SLOTS_SCRIPT.run(
          await this.#cluster.nodeClient(master),
          [],
          [generation, String(STAMP_TTL_MS), ...stamps],
        ),
      ),
    );
  }

  /**
   * An entry is written apart from its tags here (they live in other slots): each entry a tag listed
   * is stamped too, so that a write that was added to the set before the tag's stamp, but has not
   * written the entry yet, is refused when it does.
   */
  protected override async deleteMembers(generation: string, members: readonly string[]): Promise<number> {
    return this.stampAndUnlink(generation, members);
  }

  /** UNLINK per hash slot, at most `batchSize` keys per command. */
  protected override async unlink(keys: readonly string[]): Promise<number> {
    const unlinks: Promise<number>[] = [];
    for (const { keys: slotKeys } of groupBySlot(keys)) {
      for (let i = 0; i < slotKeys.length; i += this.#batchSize) {
        unlinks.push(this.#cluster.unlink(slotKeys.slice(i, i + this.#batchSize)));
      }
    }
    const counts = await Promise.all(unlinks);
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * SCAN on every master known to the client. A master that cannot be reached fails the call, so
   * the invalidation is retried and then reported rather than silently left half done.
   */
  protected override async scanAndDelete(pattern: string, exceptPrefix?: string): Promise<number> {
    const masters = [...this.#cluster.masters];
    const counts = await Promise.all(
      masters.map(async (master) =>
        this.deleteMatchingOn(await this.#cluster.nodeClient(master), pattern, exceptPrefix),
      ),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }
}

import { RESP_TYPES } from 'redis';
import {
  type CacheStore,
  type KeyScan,
  type Lease,
  type LeasedLockAndValue,
  type LockAndValue,
  type LockRelease,
  MAX_LEASE_AGE_MS,
  type ScanPage,
  STAMP_TTL_MS,
  type StoreRenewal,
  type StoreSetOptions,
  type StoreWriteResult,
  type TaggedDeletion,
} from './cache-store.js';
import { type RedisClientLike, withoutClientTimeout } from './redis-client-like.js';
import { RedisScript } from './redis-script.js';
import { StampKeys } from './stamp-keys.js';
import {
  GUARDED_WRITE_AND_RELEASE_SCRIPT,
  GUARDED_WRITE_SCRIPT,
  LOCK_THEN_GET_WITH_LEASE_SCRIPT,
  NEXT_GENERATION_SCRIPT,
  READ_LEASE_SCRIPT,
  RENEW_SCRIPT,
  STAMPED_DELETE_SCRIPT,
  STAMPED_EXPIRE_SCRIPT,
  STAMPED_WRITE_SCRIPT,
} from './stamp-scripts.js';

/** Tuning of a {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Keys asked for per SCAN step and deleted per UNLINK by `deleteMatching`/`deleteTagged`. Default 500. */
  batchSize?: number;
  /** Prefix of the store's own bookkeeping keys (the lease counter and stamps). Default `'__ca:'`. */
  namespace?: string;
}

// Deletes the lock only while it still holds our token, so a lock that expired and was taken by
// another instance is never released by us.
export const RELEASE_LOCK_SCRIPT = new RedisScript(
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
);

// The read after taking a lock, in the same round trip: Redis runs a script alone, so the read sees
// whatever the previous holder stored before it released the lock. Replies {1, value} or {0}.
export const LOCK_THEN_GET_SCRIPT = new RedisScript(
  "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, redis.call('GET', KEYS[2])} end return {0}",
);

const WRITE_RESULTS: readonly StoreWriteResult[] = ['stored', 'invalidated', 'lease-expired'];

/** BUFFER type mapping: bulk strings read as Buffers, so values stay binary-safe. */
export const BUFFER_REPLIES = { [RESP_TYPES.BLOB_STRING]: Buffer };

/** Keys that one script may touch together, with the stamps that guard or record them. */
interface SlotWork {
  stamps: string[];
  tags: string[];
  /** Keys to delete (invalidations), or the entry to write. */
  keys: string[];
}

/**
 * A {@link CacheStore} over a node-redis client of one Redis (`createClient()`, or the master of a
 * `createSentinel()`); `RedisClusterStore` extends it for a Cluster. Every method throws when Redis fails.
 *
 * Stale sets are refused with leases: a load reads the invalidation counter before it reads its source
 * (`readLease`); every invalidation takes the next number and stamps what it invalidates with it; a
 * write under a lease checks, in the same script as the write, that no stamp of its entry, tags or
 * pattern is newer than the lease. Stamps outlive any lease (`STAMP_TTL_MS`).
 */
export class RedisStore implements CacheStore {
  readonly name: string = 'redis';
  protected readonly stampKeys: StampKeys;
  readonly #client: RedisClientLike;
  readonly #bytes: RedisClientLike;
  readonly #batchSize: number;

  /**
   * `acquireLockAndGet` and `readLease` in one script. Offered where the lease counter shares the slot
   * of every lock and entry: one Redis, or a Cluster whose namespace has a hash tag (then every key of
   * the cache sits in that tag's slot). Elsewhere no script reaches both, and the cache reads the
   * lease apart.
   */
  readonly acquireLockAndGetWithLease?: (
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ) => Promise<LeasedLockAndValue>;

  constructor(client: RedisClientLike, options: RedisStoreOptions = {}) {
    this.#client = withoutClientTimeout(client);
    this.#bytes = this.#client.withTypeMapping(BUFFER_REPLIES);
    this.#batchSize = options.batchSize ?? 500;
    this.stampKeys = new StampKeys(options.namespace ?? '__ca:');
    if (this.slotOf(this.stampKeys.generation) === undefined || this.stampKeys.inOneSlot) {
      this.acquireLockAndGetWithLease = (lockKey, token, ttlMs, key) =>
        this.#lockThenGetWithLease(lockKey, token, ttlMs, key);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    return toBuffer(await this.#bytes.get(key));
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.#bytes.mGet([...keys]);
    return values.map(toBuffer);
  }

  async readLease(): Promise<Lease> {
    const reply = (await READ_LEASE_SCRIPT.run(this.#client, [this.stampKeys.generation], [])) as unknown[];
    const [generation, seconds, microseconds] = reply.map(Number);
    return leaseAt(generation, seconds, microseconds);
  }

  async set(key: string, value: Buffer, options: StoreSetOptions): Promise<StoreWriteResult> {
    const ttlMs = String(Math.max(1, Math.ceil(options.ttlMs)));
    const tagKeys = options.tagKeys ?? [];
    const { lease } = options;
    if (lease === undefined) {
      // The application's own write: loads of this key under way must not overwrite it afterwards.
      const generation = await this.#nextGeneration();
      const stampOf = this.stampKeys.of(key);
      const work = this.#bySlot([{ stamps: [stampOf], tags: [], keys: [key] }, ...tagsWork(tagKeys)]);
      await this.#inOrder(work, key, (slot) =>
        STAMPED_WRITE_SCRIPT.run(
          this.#client,
          [...slot.stamps, ...slot.tags, ...slot.keys],
          [
            String(slot.stamps.length),
            String(slot.tags.length),
            generation,
            String(STAMP_TTL_MS),
            ttlMs,
            key,
            ...(slot.keys.length > 0 ? [value] : []),
          ],
        ),
      );
      return 'stored';
    }
    return this.#leasedWrite(key, value, ttlMs, tagKeys, lease, undefined);
  }

  async setAndReleaseLock(
    key: string,
    value: Buffer,
    options: StoreSetOptions,
    lock: LockRelease,
  ): Promise<StoreWriteResult> {
    const { lease } = options;
    if (lease === undefined) {
      try {
        return await this.set(key, value, options);
      } finally {
        await this.#releaseAfterWrite(lock);
      }
    }
    const ttlMs = String(Math.max(1, Math.ceil(options.ttlMs)));
    return this.#leasedWrite(key, value, ttlMs, options.tagKeys ?? [], lease, lock);
  }

  /**
   * A load's write under its lease, slot by slot; with `lock`, the entry's script also releases the
   * lock, which shares its slot (else, or when that script does not run, it is released after).
   */
  async #leasedWrite(
    key: string,
    value: Buffer,
    ttlMs: string,
    tagKeys: readonly string[],
    lease: Lease,
    lock: LockRelease | undefined,
  ): Promise<StoreWriteResult> {
    // Every stamp sits in the slot of what it stamps, so each is checked by the script that writes there.
    const checks = [this.stampKeys.of(key), this.stampKeys.pattern(this.slotOf(key))];
    const work = this.#bySlot([
      { stamps: checks, tags: [], keys: [key] },
      ...tagKeys.map((tagKey) => ({ stamps: [this.stampKeys.of(tagKey)], tags: [tagKey], keys: [] })),
    ]);
    const releasing = lock !== undefined && this.slotOf(lock.key) === this.slotOf(key) ? lock : undefined;
    let released = false;
    let result: StoreWriteResult = 'stored';
    try {
      await this.#inOrder(work, key, async (slot) => {
        const withLock = releasing !== undefined && slot.keys.length > 0 ? releasing : undefined;
        const args = [
          String(slot.stamps.length),
          String(slot.tags.length),
          String(lease.generation),
          String(lease.startedAtMs),
          String(MAX_LEASE_AGE_MS),
          ttlMs,
          key,
          ...(slot.keys.length > 0 ? [value] : []),
        ];
        const reply =
          withLock === undefined
            ? await GUARDED_WRITE_SCRIPT.run(this.#client, [...slot.stamps, ...slot.tags, ...slot.keys], args)
            : await GUARDED_WRITE_AND_RELEASE_SCRIPT.run(
                this.#client,
                [...slot.stamps, ...slot.tags, ...slot.keys, withLock.key],
                [...args, withLock.token],
              );
        if (withLock !== undefined) released = true;
        const outcome = WRITE_RESULTS[Number(reply)] ?? 'stored';
        if (outcome !== 'stored') result = outcome;
        return outcome === 'stored';
      });
    } finally {
      if (lock !== undefined && !released) await this.#releaseAfterWrite(lock);
    }
    return result;
  }

  /**
   * Releases a load's lock after its write, when the write's script could not. The write's outcome is
   * the call's: a release that fails leaves the lock to expire by itself, as any failed release does.
   */
  async #releaseAfterWrite(lock: LockRelease): Promise<void> {
    await this.releaseLock(lock.key, lock.token).catch(() => undefined);
  }

  async renew(key: string, renewal: StoreRenewal): Promise<StoreWriteResult | 'changed'> {
    const { lease } = renewal;
    const ttlMs = String(Math.max(1, Math.ceil(renewal.ttlMs)));
    const leaseArgs = [String(lease.generation), String(lease.startedAtMs), String(MAX_LEASE_AGE_MS)];
    // The tags first, each under the lease in its own slot: an entry must stay reachable from its tags
    // for as long as it now lives.
    for (const tagKey of renewal.tagKeys) {
      const reply = await GUARDED_WRITE_SCRIPT.run(
        this.#client,
        [this.stampKeys.of(tagKey), tagKey],
        ['1', '1', ...leaseArgs, ttlMs, key],
      );
      const outcome = WRITE_RESULTS[Number(reply)] ?? 'stored';
      if (outcome !== 'stored') return outcome;
    }
    const checks = [this.stampKeys.of(key), this.stampKeys.pattern(this.slotOf(key))];
    const reply = await RENEW_SCRIPT.run(
      this.#client,
      [...checks, key],
      [
        String(checks.length),
        ...leaseArgs,
        String(renewal.offset),
        renewal.expected,
        renewal.times,
        ttlMs,
        ...(renewal.value === undefined ? [] : [renewal.value]),
      ],
    );
    return Number(reply) === 3 ? 'changed' : (WRITE_RESULTS[Number(reply)] ?? 'stored');
  }

  /**
   * The slot of a key on a Cluster; `undefined` for one Redis, where every key can share a script.
   * Overridden by the Cluster store.
   */
  protected slotOf(_key: string): number | undefined {
    return undefined;
  }

  /** Gathers the work of each slot, keeping the slot of `first` (the entry) for last. */
  #bySlot(items: readonly SlotWork[]): SlotWork[] {
    const bySlot = new Map<number | undefined, SlotWork>();
    for (const item of items) {
      const anchor = item.keys[0] ?? item.tags[0] ?? item.stamps[0];
      const slot = anchor === undefined ? undefined : this.slotOf(anchor);
      const work = bySlot.get(slot);
      if (work === undefined)
        bySlot.set(slot, { stamps: [...item.stamps], tags: [...item.tags], keys: [...item.keys] });
      else {
        work.stamps.push(...item.stamps);
        work.tags.push(...item.tags);
        work.keys.push(...item.keys);
      }
    }
    return [...bySlot.values()];
  }

  /**
   * Runs the scripts of the tag slots first, all at once, then the entry's: an entry must never exist
   * unreachable from its tags, and a write refused on a tag's slot must not write the entry.
   */
  async #inOrder(
    work: readonly SlotWork[],
    entryKey: string,
    run: (slot: SlotWork) => Promise<unknown>,
  ): Promise<void> {
    const entry = work.find((slot) => slot.keys.includes(entryKey));
    const others = work.filter((slot) => slot !== entry);
    if (others.length > 0) {
      const accepted = await Promise.all(others.map(run));
      if (accepted.some((ok) => ok === false)) return;
    }
    if (entry !== undefined) await run(entry);
  }

  async #nextGeneration(): Promise<string> {
    return String(await NEXT_GENERATION_SCRIPT.run(this.#client, [this.stampKeys.generation], []));
  }

  /** Runs the stamped deletion of `keys` (and `stampsOnly`, stamped without deleting), slot by slot. */
  async #stampAndDelete(
    generation: string,
    keys: readonly string[],
    stampsOnly: readonly string[] = [],
  ): Promise<number> {
    const work = this.#bySlot([
      ...keys.map((key) => ({ stamps: [this.stampKeys.of(key)], tags: [], keys: [key] })),
      ...stampsOnly.map((stamp) => ({ stamps: [stamp], tags: [], keys: [] })),
    ]);
    const batches: SlotWork[] = [];
    for (const slot of work) {
      const size = Math.max(slot.stamps.length, slot.keys.length);
      for (let i = 0; i < size; i += this.#batchSize) {
        batches.push({
          stamps: slot.stamps.slice(i, i + this.#batchSize),
          tags: [],
          keys: slot.keys.slice(i, i + this.#batchSize),
        });
      }
    }
    const counts = await Promise.all(
      batches.map((batch) =>
        STAMPED_DELETE_SCRIPT.run(
          this.#client,
          [...batch.stamps, ...batch.keys],
          [String(batch.stamps.length), generation, String(STAMP_TTL_MS)],
        ),
      ),
    );
    return counts.reduce<number>((sum, count) => sum + Number(count), 0);
  }

  /** An invalidation of `keys`: stamps each, then unlinks it. */
  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.#stampAndDelete(await this.#nextGeneration(), keys);
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion> {
    const generation = await this.#nextGeneration();
    // Stamped first: a write under an older lease is refused from here on, and one that came before
    // is listed in the set, and so deleted below.
    await this.#stampAndDelete(
      generation,
      [],
      tagKeys.map((tagKey) => this.stampKeys.of(tagKey)),
    );
    const keys: string[] = [];
    let deleted = 0;
    for (const tagKey of tagKeys) {
      // SPOP, not SMEMBERS + DEL: an entry tagged while we delete stays indexed for next time.
      for (;;) {
        const members = (await this.#client.sPopCount(tagKey, this.#batchSize)).map(String);
        if (members.length === 0) break;
        keys.push(...members);
        try {
          deleted += await this.deleteMembers(generation, members);
        } catch (error) {
          // Popped but not deleted: back in the index, or no later invalidation of the tag could find them.
          await this.#client.sAdd(tagKey, members).catch(() => undefined);
          throw error;
        }
      }
    }
    return { keys, deleted };
  }

  /**
   * Deletes the entries a tag listed. On one Redis the tag's stamp suffices: the write script checks it
   * and adds to the set at once. Overridden on a Cluster, where the entry is written apart from its tags.
   */
  protected async deleteMembers(_generation: string, members: readonly string[]): Promise<number> {
    return this.unlink(members);
  }

  /** Stamps each of `keys` with `generation` and unlinks it. */
  protected async stampAndUnlink(generation: string, keys: readonly string[]): Promise<number> {
    return this.#stampAndDelete(generation, keys);
  }

  /** Plain UNLINK, at most `batchSize` keys per command. */
  protected async unlink(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += this.#batchSize) {
      deleted += await this.#client.unlink(keys.slice(i, i + this.#batchSize));
    }
    return deleted;
  }

  async deleteMatching(pattern: string, exceptPrefix?: string): Promise<number> {
    const generation = await this.#nextGeneration();
    // Stamped first, so that a load of a matching key under way (its key does not exist yet, the scan
    // cannot find it) cannot store afterwards.
    await this.stampPatterns(generation);
    return this.scanAndDelete(pattern, exceptPrefix);
  }

  /** Raises the pattern stamp(s) to `generation`. Overridden on a Cluster, which has one per slot. */
  protected async stampPatterns(generation: string): Promise<void> {
    await this.#stampAndDelete(generation, [], this.stampKeys.patterns(undefined));
  }

  /** Deletes every key matching `pattern` (but those starting with `exceptPrefix`). Overridden on a Cluster. */
  protected async scanAndDelete(pattern: string, exceptPrefix?: string): Promise<number> {
    return this.deleteMatchingOn(this.#client, pattern, exceptPrefix);
  }

  /** Walks the keys of the server behind `node` with SCAN and unlinks those matching. */
  protected async deleteMatchingOn(
    node: Pick<RedisClientLike, 'scan'>,
    pattern: string,
    exceptPrefix?: string,
  ): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      // Entries are strings; TYPE keeps the tag index sets out of reach, or a pattern like `*:1` would
      // delete the index of an entry it does not match, and invalidateTags would then miss that entry.
      const page = await node.scan(cursor, {
        MATCH: pattern,
        COUNT: this.#batchSize,
        TYPE: 'string',
      });
      cursor = String(page.cursor);
      const keys = page.keys
        .map(String)
        .filter((key) => exceptPrefix === undefined || !key.startsWith(exceptPrefix));
      if (keys.length > 0) deleted += await this.unlink(keys);
    } while (cursor !== '0');
    return deleted;
  }

  async ttlSeconds(key: string): Promise<number> {
    return this.#client.ttl(key);
  }

  async scanKeys(cursor: string, search: KeyScan): Promise<ScanPage<string>> {
    return this.scanKeysOn(this.#client, cursor, search);
  }

  /** One SCAN step on the server behind `node`; with `search.member`, only the sets that hold it. */
  protected async scanKeysOn(
    node: Pick<RedisClientLike, 'scan'>,
    cursor: string,
    search: KeyScan,
  ): Promise<ScanPage<string>> {
    const page = await node.scan(cursor, { MATCH: search.pattern, COUNT: search.count, TYPE: search.type });
    const keys = page.keys.map(String);
    const next = String(page.cursor);
    const { member } = search;
    if (member === undefined || keys.length === 0) return { cursor: next, items: keys };
    // Through the client, not `node`: on a Cluster it routes each set to the node that holds it.
    const held = await Promise.all(keys.map((key) => this.#client.sIsMember(key, member)));
    return { cursor: next, items: keys.filter((_, index) => Number(held[index]) === 1) };
  }

  async scanTagMembers(tagKey: string, cursor: string, count: number): Promise<ScanPage<string>> {
    const page = await this.#client.sScan(tagKey, cursor, { COUNT: count });
    return { cursor: String(page.cursor), items: page.members.map(String) };
  }

  /** Counts as an invalidation of the key: a load under way must not store a fresh copy afterwards. */
  async expire(key: string, seconds: number): Promise<boolean> {
    const generation = await this.#nextGeneration();
    const reply = await STAMPED_EXPIRE_SCRIPT.run(
      this.#client,
      [this.stampKeys.of(key), key],
      [generation, String(STAMP_TTL_MS), String(seconds)],
    );
    return Number(reply) > 0;
  }

  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#client.set(key, Buffer.from(token), {
      expiration: { type: 'PX', value: lockMilliseconds(ttlMs) },
      condition: 'NX',
    });
    return reply !== null;
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    const reply = await RELEASE_LOCK_SCRIPT.run(this.#client, [key], [token]);
    return Number(reply) === 1;
  }

  async acquireLockAndGet(lockKey: string, token: string, ttlMs: number, key: string): Promise<LockAndValue> {
    const reply = await LOCK_THEN_GET_SCRIPT.run(
      this.#bytes,
      [lockKey, key],
      [token, String(lockMilliseconds(ttlMs))],
    );
    if (!Array.isArray(reply) || Number(reply[0]) !== 1) return { acquired: false };
    return { acquired: true, value: toBuffer(reply[1] as Buffer | string | null | undefined) };
  }

  async #lockThenGetWithLease(
    lockKey: string,
    token: string,
    ttlMs: number,
    key: string,
  ): Promise<LeasedLockAndValue> {
    const reply = (await LOCK_THEN_GET_WITH_LEASE_SCRIPT.run(
      this.#bytes,
      [lockKey, key, this.stampKeys.generation],
      [token, String(lockMilliseconds(ttlMs))],
    )) as unknown[];
    const [generation, seconds, microseconds] = reply.slice(2).map((part) => Number(String(part)));
    const lease = leaseAt(generation, seconds, microseconds);
    if (Number(reply[0]) !== 1) return { acquired: false, lease };
    return { acquired: true, value: toBuffer(reply[1] as Buffer | null | undefined), lease };
  }
}

/** A lease from the counter and the server's clock as a script replies them (TIME's two parts). */
function leaseAt(
  generation: number | undefined,
  seconds: number | undefined,
  microseconds: number | undefined,
): Lease {
  if (generation === undefined || seconds === undefined || microseconds === undefined) {
    throw new Error('a lease reply lacks its count or its time');
  }
  return { generation, startedAtMs: seconds * 1000 + Math.floor(microseconds / 1000) };
}

/** Tag index sets to add an entry to, each with no stamp (the application's own write). */
function tagsWork(tagKeys: readonly string[]): SlotWork[] {
  return tagKeys.map((tagKey) => ({ stamps: [], tags: [tagKey], keys: [] }));
}

function lockMilliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** A reply of GET/MGET as the store returns it: bytes, or `undefined` for a missing key. */
export function toBuffer(value: Buffer | string | null | undefined): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

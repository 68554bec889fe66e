import { RESP_TYPES } from 'redis';
import type { CacheStore, LockAndValue, StoreSetOptions, TaggedDeletion } from './cache-store.js';
import { type RedisClientLike, withoutClientTimeout } from './redis-client-like.js';
import { RedisScript } from './redis-script.js';

/** Tuning of a {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Keys asked for per SCAN step and deleted per UNLINK by `deleteMatching`/`deleteTagged`. Default 500. */
  batchSize?: number;
}

// Deletes the lock only while it still holds our token, so a lock that expired and was taken by
// another instance is never released by us.
const RELEASE_LOCK_SCRIPT = new RedisScript(
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
);

// The read after taking a lock, in the same round trip: Redis runs a script alone, so the read sees
// whatever the previous holder stored before it released the lock. Replies {1, value} or {0}.
const LOCK_THEN_GET_SCRIPT = new RedisScript(
  "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, redis.call('GET', KEYS[2])} end return {0}",
);

/** node-redis type mapping that reads bulk strings as Buffers, so values stay binary-safe. */
export const BUFFER_REPLIES = { [RESP_TYPES.BLOB_STRING]: Buffer };

/**
 * A {@link CacheStore} over a node-redis client of one Redis (`createClient()`, or the master of a
 * `createSentinel()`); `RedisClusterStore` extends it for a Cluster. Every method throws when Redis fails.
 */
export class RedisStore implements CacheStore {
  readonly name: string = 'redis';
  readonly #client: RedisClientLike;
  readonly #bytes: RedisClientLike;
  readonly #batchSize: number;

  constructor(client: RedisClientLike, options: RedisStoreOptions = {}) {
    this.#client = withoutClientTimeout(client);
    this.#bytes = this.#client.withTypeMapping(BUFFER_REPLIES);
    this.#batchSize = options.batchSize ?? 500;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return toBuffer(await this.#bytes.get(key));
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.#bytes.mGet([...keys]);
    return values.map(toBuffer);
  }

  async set(key: string, value: Buffer, options: StoreSetOptions): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(options.ttlMs));
    // Index first: an entry that exists is then always reachable from its tags. Commands sent in
    // one tick share one pipeline, so this costs one round trip.
    const writes: Promise<unknown>[] = [];
    for (const tagKey of options.tagKeys ?? []) {
      writes.push(this.#client.sAdd(tagKey, [key]));
      // NX gives a new set a lifetime; GT stretches it to the longest-lived member.
      writes.push(this.#client.pExpire(tagKey, ttlMs, 'NX'));
      writes.push(this.#client.pExpire(tagKey, ttlMs, 'GT'));
    }
    writes.push(this.#client.set(key, value, { expiration: { type: 'PX', value: ttlMs } }));
    await Promise.all(writes);
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += this.#batchSize) {
      deleted += await this.#client.unlink(keys.slice(i, i + this.#batchSize));
    }
    return deleted;
  }

  async deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion> {
    const keys: string[] = [];
    let deleted = 0;
    for (const tagKey of tagKeys) {
      // SPOP, not SMEMBERS + DEL: an entry tagged while we delete stays indexed for next time.
      for (;;) {
        const members = (await this.#client.sPopCount(tagKey, this.#batchSize)).map(String);
        if (members.length === 0) break;
        keys.push(...members);
        deleted += await this.delete(members);
      }
    }
    return { keys, deleted };
  }

  async deleteMatching(pattern: string, exceptPrefix?: string): Promise<number> {
    return this.deleteMatchingOn(this.#client, pattern, exceptPrefix);
  }

  /** Walks the keys of the server behind `node` with SCAN and deletes (through `this.delete`) those matching. */
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
      if (keys.length > 0) deleted += await this.delete(keys);
    } while (cursor !== '0');
    return deleted;
  }

  async ttlSeconds(key: string): Promise<number> {
    return this.#client.ttl(key);
  }

  async expire(key: string, seconds: number): Promise<boolean> {
    return (await this.#client.expire(key, seconds)) > 0;
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
}

function lockMilliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** A reply of GET/MGET as the store returns it: bytes, or `undefined` for a missing key. */
export function toBuffer(value: Buffer | string | null | undefined): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

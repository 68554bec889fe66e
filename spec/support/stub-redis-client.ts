import sinon, { type SinonStub } from 'sinon';
import type { RedisClientLike } from '../../src/store/redis-client-like.js';
import {
  GUARDED_WRITE_AND_RELEASE_SCRIPT,
  GUARDED_WRITE_SCRIPT,
  LOCK_THEN_GET_WITH_LEASE_SCRIPT,
  NEXT_GENERATION_SCRIPT,
  READ_LEASE_SCRIPT,
  STAMPED_DELETE_SCRIPT,
  STAMPED_EXPIRE_SCRIPT,
  STAMPED_WRITE_SCRIPT,
} from '../../src/store/stamp-scripts.js';

type Method = Exclude<keyof RedisClientLike, 'withCommandOptions'>;

/** Every command of {@link RedisClientLike} as a sinon stub with the command's own signature. */
export type StubRedisClient = {
  [M in Method]: SinonStub<Parameters<RedisClientLike[M]>, ReturnType<RedisClientLike[M]>>;
};

/**
 * A node-redis-like client whose commands are sinon stubs, for unit specs that must not touch the
 * network. Out of the box it behaves like an empty Redis: every key is missing, writes succeed,
 * deletes remove nothing. `withTypeMapping` returns the client itself, so stubbing `get` also
 * stubs the Buffer-typed reads of the store.
 */
export function createStubRedisClient(): StubRedisClient {
  const client: StubRedisClient = {
    withTypeMapping: sinon.stub(),
    get: sinon.stub<[string], Promise<Buffer | string | null>>().resolves(null),
    mGet: sinon
      .stub<[string[]], Promise<(Buffer | string | null)[]>>()
      .callsFake(async (keys) => keys.map(() => null)),
    set: sinon.stub<[string, Buffer, object], Promise<unknown>>().resolves('OK'),
    sAdd: sinon
      .stub<[string, string[]], Promise<number>>()
      .callsFake(async (_key, members) => members.length),
    sPopCount: sinon.stub<[string, number], Promise<unknown[]>>().resolves([]),
    sScan: sinon
      .stub<Parameters<RedisClientLike['sScan']>, ReturnType<RedisClientLike['sScan']>>()
      .resolves({ cursor: '0', members: [] }),
    sIsMember: sinon.stub<[string, string], Promise<number>>().resolves(0),
    pExpire: sinon.stub<[string, number, ('NX' | 'XX' | 'GT' | 'LT')?], Promise<number>>().resolves(1),
    unlink: sinon.stub<[string[]], Promise<number>>().resolves(0),
    scan: sinon
      .stub<Parameters<RedisClientLike['scan']>, ReturnType<RedisClientLike['scan']>>()
      .resolves({ cursor: '0', keys: [] }),
    ttl: sinon.stub<[string], Promise<number>>().resolves(-2),
    expire: sinon.stub<[string, number], Promise<number>>().resolves(0),
    // Answers the store's scripts through the stub's own commands, so that specs see (and can fail)
    // the writes, deletes and lifetimes a script would make: see `runScript`.
    eval: sinon.stub<Parameters<RedisClientLike['eval']>, Promise<unknown>>(),
    // A Redis that has not seen the scripts yet: the store falls back to EVAL.
    evalSha: sinon
      .stub<Parameters<RedisClientLike['evalSha']>, Promise<unknown>>()
      .rejects(new Error('NOSCRIPT No matching script. Please use EVAL.')),
  };
  client.withTypeMapping.returns(client);
  client.eval.callsFake((script, options) => runScript(client, script, options.keys, options.arguments));
  return client;
}

/**
 * What the store's scripts do, in terms of the stub's commands, for an empty Redis with no stamps:
 * the lock-and-read script takes the lock and finds no entry ({1, nil}); the lease is count 0 at the
 * current time, alone or with the lock and the read; a write is stored (0) through `sAdd`/`pExpire`/`set`; a stamped delete is `unlink`,
 * a stamped expire `expire`; the compare-and-delete finds no lock to release (0).
 */
async function runScript(
  client: StubRedisClient,
  script: string,
  keys: string[],
  args: (string | Buffer)[],
): Promise<unknown> {
  if (script.includes("return {1, redis.call('GET', KEYS[2])}")) return [1, null];
  if (script === NEXT_GENERATION_SCRIPT.source) return String(Date.now());
  const lease = ['0', String(Math.floor(Date.now() / 1000)), '0'];
  if (script === READ_LEASE_SCRIPT.source) return lease;
  if (script === LOCK_THEN_GET_WITH_LEASE_SCRIPT.source) return [1, null, ...lease];
  const count = (index: number) => Number(args[index]);
  const releasing = script === GUARDED_WRITE_AND_RELEASE_SCRIPT.source;
  if (script === GUARDED_WRITE_SCRIPT.source || script === STAMPED_WRITE_SCRIPT.source || releasing) {
    const guarded = script !== STAMPED_WRITE_SCRIPT.source;
    const [ttlAt, memberAt] = guarded ? [5, 6] : [4, 5];
    const ttlMs = count(ttlAt);
    const tags = keys.slice(count(0), count(0) + count(1));
    for (const tag of tags) {
      await client.sAdd(tag, [String(args[memberAt])]);
      await client.pExpire(tag, ttlMs, 'NX');
      await client.pExpire(tag, ttlMs, 'GT');
    }
    // The releasing write has the lock as its last key, after the entry (a lock the stub never holds).
    const writeKeys = releasing ? keys.slice(0, -1) : keys;
    const entry = writeKeys.length > count(0) + count(1) ? writeKeys[writeKeys.length - 1] : undefined;
    if (entry !== undefined) {
      const value = args[memberAt + 1];
      await client.set(entry, Buffer.isBuffer(value) ? value : Buffer.from(String(value)), {
        expiration: { type: 'PX', value: ttlMs },
      });
    }
    return 0;
  }
  if (script === STAMPED_DELETE_SCRIPT.source) {
    const targets = keys.slice(count(0));
    return targets.length === 0 ? 0 : client.unlink(targets);
  }
  if (script === STAMPED_EXPIRE_SCRIPT.source) return client.expire(keys[1] as string, count(2));
  return 0;
}

import sinon, { type SinonStub } from 'sinon';
import type { RedisClientLike } from '../../src/store/redis-client-like.js';

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
    pExpire: sinon.stub<[string, number, ('NX' | 'XX' | 'GT' | 'LT')?], Promise<number>>().resolves(1),
    unlink: sinon.stub<[string[]], Promise<number>>().resolves(0),
    scan: sinon
      .stub<Parameters<RedisClientLike['scan']>, ReturnType<RedisClientLike['scan']>>()
      .resolves({ cursor: '0', keys: [] }),
    ttl: sinon.stub<[string], Promise<number>>().resolves(-2),
    expire: sinon.stub<[string, number], Promise<number>>().resolves(0),
    // As an empty Redis answers the store's scripts: the lock-and-read script takes the lock and
    // finds no entry ({1, nil}); the compare-and-delete finds no lock to release (0).
    eval: sinon
      .stub<Parameters<RedisClientLike['eval']>, Promise<unknown>>()
      .callsFake(async (script) => (script.includes("'NX'") ? [1, null] : 0)),
    // A Redis that has not seen the scripts yet: the store falls back to EVAL.
    evalSha: sinon
      .stub<Parameters<RedisClientLike['evalSha']>, Promise<unknown>>()
      .rejects(new Error('NOSCRIPT No matching script. Please use EVAL.')),
  };
  client.withTypeMapping.returns(client);
  return client;
}

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { RESP_TYPES } from 'redis';
import { RedisStore } from '../../../src/store/redis-store.js';
import { createStubRedisClient, type StubRedisClient } from '../../support/stub-redis-client.js';

// Command shapes that a real Redis cannot reveal; behaviour is covered by the store contract in
// spec/integration/store/redis-store.spec.ts.
describe('RedisStore commands (stubbed client)', () => {
  let redis: StubRedisClient;

  beforeEach(() => {
    redis = createStubRedisClient();
  });

  it('asks node-redis for Buffer replies, so values stay binary-safe', () => {
    new RedisStore(redis);
    expect(redis.withTypeMapping.calledOnceWithExactly({ [RESP_TYPES.BLOB_STRING]: Buffer })).to.equal(true);
  });

  it('turns a string reply into its UTF-8 bytes and a null reply into undefined', async () => {
    redis.get.withArgs('text').resolves('héllo');
    const store = new RedisStore(redis);
    expect((await store.get('text'))?.equals(Buffer.from('héllo', 'utf8'))).to.equal(true);
    expect(await store.get('missing')).to.equal(undefined);
  });

  it('reads many keys with one MGET and none for an empty list', async () => {
    redis.mGet.resolves([Buffer.from('a'), null, 'c']);
    const store = new RedisStore(redis);
    expect(await store.getMany(['k1', 'k2', 'k3'])).to.deep.equal([
      Buffer.from('a'),
      undefined,
      Buffer.from('c'),
    ]);
    expect(await store.getMany([])).to.deep.equal([]);
    expect(redis.mGet.callCount).to.equal(1);
    expect(redis.mGet.firstCall.args[0]).to.deep.equal(['k1', 'k2', 'k3']);
  });

  it('writes with SET PX, rounding a fractional lifetime up to a whole millisecond', async () => {
    const store = new RedisStore(redis);
    await store.set('k', Buffer.from('v'), { ttlMs: 0.2 });
    expect(redis.set.firstCall.args[2]).to.deep.equal({ expiration: { type: 'PX', value: 1 } });
  });

  it('indexes a tagged entry in each tag set and stretches each set to the entry lifetime', async () => {
    const store = new RedisStore(redis);
    await store.set('k', Buffer.from('v'), { ttlMs: 5_000, tagKeys: ['t1', 't2'] });
    expect(redis.sAdd.getCalls().map((call) => call.args)).to.deep.equal([
      ['t1', ['k']],
      ['t2', ['k']],
    ]);
    expect(redis.pExpire.getCalls().map((call) => call.args)).to.deep.equal([
      ['t1', 5_000, 'NX'],
      ['t1', 5_000, 'GT'],
      ['t2', 5_000, 'NX'],
      ['t2', 5_000, 'GT'],
    ]);
  });

  it("writes a load's entry with its tags in one script: one round trip", async () => {
    const store = new RedisStore(redis);
    const pending = store.set('k', Buffer.from('v'), {
      ttlMs: 5_000,
      tagKeys: ['t'],
      lease: { generation: 0, startedAtMs: Date.now() },
    });
    // Nothing awaited yet: the one script call must already be issued.
    expect(redis.evalSha.callCount).to.equal(1);
    expect(await pending).to.equal('stored');
    expect(
      redis.eval.getCalls().some((call) => call.args[1].keys.includes('__ca:generation')),
      'a load does not count as an invalidation',
    ).to.equal(false);
  });

  it("counts the application's own write as an invalidation of its key before writing it", async () => {
    const store = new RedisStore(redis, { namespace: 'p:__ca:' });
    await store.set('p:k', Buffer.from('v'), { ttlMs: 5_000 });
    // Scripts go by SHA-1 first; the stub, like a Redis that has not seen them, sends each in full then.
    expect(redis.eval.getCalls().map((call) => call.args[1].keys)).to.deep.equal([
      ['p:__ca:generation'],
      ['p:__ca:stamp:{p:k}', 'p:k'],
    ]);
  });

  it('deletes in UNLINK batches of batchSize', async () => {
    redis.unlink.callsFake(async (keys) => keys.length);
    const store = new RedisStore(redis, { batchSize: 2 });
    expect(await store.delete(['a', 'b', 'c', 'd', 'e'])).to.equal(5);
    expect(redis.unlink.getCalls().map((call) => call.args[0])).to.deep.equal([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
  });

  it('pops tag members in batches until the set is empty', async () => {
    redis.sPopCount.onFirstCall().resolves([Buffer.from('a'), Buffer.from('b')]);
    redis.sPopCount.onSecondCall().resolves(['c']);
    redis.unlink.callsFake(async (keys) => keys.length - 1);
    const store = new RedisStore(redis, { batchSize: 2 });
    expect(await store.deleteTagged(['t'])).to.deep.equal({ keys: ['a', 'b', 'c'], deleted: 1 });
    expect(redis.sPopCount.getCalls().map((call) => call.args)).to.deep.equal([
      ['t', 2],
      ['t', 2],
      ['t', 2],
    ]);
  });

  it('scans with the pattern, batchSize as COUNT and string keys only, until the cursor is back at 0', async () => {
    redis.scan.onFirstCall().resolves({ cursor: '7', keys: [] });
    redis.scan.onSecondCall().resolves({ cursor: '0', keys: [Buffer.from('p:1')] });
    redis.unlink.callsFake(async (keys) => keys.length);
    const store = new RedisStore(redis, { batchSize: 10 });
    expect(await store.deleteMatching('p:*')).to.equal(1);
    expect(redis.scan.getCalls().map((call) => call.args)).to.deep.equal([
      ['0', { MATCH: 'p:*', COUNT: 10, TYPE: 'string' }],
      ['7', { MATCH: 'p:*', COUNT: 10, TYPE: 'string' }],
    ]);
    // An empty page makes no UNLINK call.
    expect(redis.unlink.getCalls().map((call) => call.args[0])).to.deep.equal([['p:1']]);
  });

  it('takes a lock with SET NX PX and reads a null reply as held elsewhere', async () => {
    const store = new RedisStore(redis);
    expect(await store.acquireLock('lock', 'token', 1_500.5)).to.equal(true);
    expect(redis.set.firstCall.args[1].toString()).to.equal('token');
    expect(redis.set.firstCall.args[2]).to.deep.equal({
      expiration: { type: 'PX', value: 1_501 },
      condition: 'NX',
    });
    redis.set.resolves(null);
    expect(await store.acquireLock('lock', 'other', 1_000)).to.equal(false);
  });

  it('releases a lock with one compare-and-delete script, by its SHA-1 once Redis knows it', async () => {
    redis.eval.resolves(1);
    const store = new RedisStore(redis);
    expect(await store.releaseLock('lock', 'token')).to.equal(true);
    const [script, options] = redis.eval.firstCall.args;
    expect(script).to.contain("redis.call('GET', KEYS[1]) == ARGV[1]");
    expect(options).to.deep.equal({ keys: ['lock'], arguments: ['token'] });
    const sha1 = createHash('sha1').update(script).digest('hex');
    expect(redis.evalSha.firstCall.args, 'EVALSHA first').to.deep.equal([sha1, options]);

    redis.evalSha.resolves(0);
    expect(await store.releaseLock('lock', 'token')).to.equal(false);
    expect(redis.eval.callCount, 'no EVAL once the script is known').to.equal(1);
  });

  it('takes a lock and reads the entry with one script: {1, value} is ours with the entry, {0} is held', async () => {
    const store = new RedisStore(redis);
    redis.evalSha.resolves([1, Buffer.from('entry')]);
    const found = await store.acquireLockAndGet('lock', 'token', 1_500.5, 'entry-key');
    expect(found.acquired && found.value?.toString()).to.equal('entry');
    const [, options] = redis.evalSha.firstCall.args;
    expect(options).to.deep.equal({ keys: ['lock', 'entry-key'], arguments: ['token', '1501'] });

    redis.evalSha.resolves([1, null]);
    expect(await store.acquireLockAndGet('lock', 'token', 1_000, 'entry-key')).to.deep.equal({
      acquired: true,
      value: undefined,
    });
    redis.evalSha.resolves([0]);
    expect(await store.acquireLockAndGet('lock', 'token', 1_000, 'entry-key')).to.deep.equal({
      acquired: false,
    });
    expect(redis.eval.called, 'the script was known').to.equal(false);
  });

  it('passes script errors other than NOSCRIPT on', async () => {
    redis.evalSha.rejects(new Error('BUSY Redis is busy running a script'));
    const store = new RedisStore(redis);
    const failure = await store
      .acquireLockAndGet('lock', 'token', 1_000, 'entry-key')
      .catch((error: Error) => error);
    expect(failure).to.have.property('message').that.matches(/^BUSY/);
    expect(redis.eval.called).to.equal(false);
  });

  it('reads ttl and expire replies as Redis gives them', async () => {
    redis.ttl.resolves(-1);
    redis.expire.resolves(1);
    const store = new RedisStore(redis);
    expect(await store.ttlSeconds('k')).to.equal(-1);
    expect(await store.expire('k', 5)).to.equal(true);
  });
});

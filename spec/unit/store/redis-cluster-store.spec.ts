import { expect } from 'chai';
import { PartialReadError } from '../../../src/store/cache-store.js';
import { RedisClusterStore } from '../../../src/store/redis-cluster-store.js';
import { createStubRedisCluster } from '../../support/stub-redis-cluster.js';

// Command shapes only; behaviour on a real Cluster is in spec/integration/cluster.
describe('RedisClusterStore commands (stubbed cluster)', () => {
  it('scans every master, and deletes what each one matched', async () => {
    const { client, scans, scripts } = createStubRedisCluster([['c:a'], ['c:b', 'c:c'], []]);
    expect(await new RedisClusterStore(client).deleteMatching('c:*')).to.equal(3);
    expect(scans.callCount).to.equal(3);
    // First, one script per master stamps the pattern in each of the slots it owns: 16,384 in all.
    expect(scripts.map((script) => script.node)).to.deep.equal(['master-0', 'master-1', 'master-2']);
    expect(new Set(scripts.flatMap((script) => script.keys)).size).to.equal(16_384);
  });

  it('fails the whole call when one master cannot be reached, rather than half-invalidating silently', async () => {
    const { client } = createStubRedisCluster([['c:a'], new Error('connect ECONNREFUSED')]);
    let failure: unknown;
    await new RedisClusterStore(client).deleteMatching('c:*').catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.instanceOf(Error).with.property('message', 'connect ECONNREFUSED');
  });

  it('reads the keys of the masters that answer when another fails, and says which could not be read', async () => {
    const { client, addressOf } = createStubRedisCluster([[], [], []]);
    const keys = ['c:1', 'c:2', 'c:3', 'c:4', 'c:5', 'c:6'];
    const down = addressOf('c:1');
    client.mGet.callsFake(async (slotKeys) => {
      if (addressOf(slotKeys[0] as string) === down) throw new Error('connect ECONNREFUSED');
      return slotKeys.map((key) => `value of ${key}`);
    });
    const failure = await new RedisClusterStore(client).getMany(keys).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(PartialReadError);
    expect((failure as PartialReadError).cause).to.have.property('message', 'connect ECONNREFUSED');
    const read = (failure as PartialReadError).values.map((value) => value?.toString());
    expect(read).to.deep.equal(keys.map((key) => (addressOf(key) === down ? undefined : `value of ${key}`)));
    expect(
      read.filter((value) => value !== undefined),
      'keys of every other master were read',
    ).to.not.be.empty;
  });

  it('fails a getMany whose every MGET failed with the error itself', async () => {
    const { client } = createStubRedisCluster([[], []]);
    client.mGet.rejects(new Error('connect ECONNREFUSED'));
    const failure = await new RedisClusterStore(client)
      .getMany(['c:1', 'c:2', 'c:3'])
      .catch((error: unknown) => error);
    expect(failure).to.not.be.instanceOf(PartialReadError);
    expect(failure).to.have.property('message', 'connect ECONNREFUSED');
  });

  it('sends no MGET for an empty list of keys', async () => {
    const { client } = createStubRedisCluster([]);
    expect(await new RedisClusterStore(client).getMany([])).to.deep.equal([]);
    expect(client.mGet.called).to.equal(false);
  });
});

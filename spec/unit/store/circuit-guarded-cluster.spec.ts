import { expect } from 'chai';
import sinon from 'sinon';
import { isCircuitOpenError } from '../../../src/store/circuit-breaker.js';
import { guardCluster } from '../../../src/store/circuit-guarded-cluster.js';
import { type NodeCircuitChange, NodeCircuits } from '../../../src/store/node-circuits.js';
import { BUFFER_REPLIES } from '../../../src/store/redis-store.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { createStubRedisCluster } from '../../support/stub-redis-cluster.js';

const THRESHOLD = 3;

describe('guardCluster (stubbed cluster of 3 masters)', () => {
  let clock: sinon.SinonFakeTimers;
  let changes: NodeCircuitChange[];
  let stub: ReturnType<typeof createStubRedisCluster>;
  /** Keys of the cluster's first master (`down` once a spec fails it) and of its second. */
  let onFirst: string[];
  let onSecond: string[];

  function guarded() {
    const circuits = new NodeCircuits(
      { timeoutMs: 200, breakerThreshold: THRESHOLD, breakerHalfOpenAfterMs: 1_000 },
      (change) => changes.push(change),
    );
    return guardCluster(stub.client, circuits);
  }

  /** Every command for a key of the first master fails as a dead node's would. */
  function killFirstMaster() {
    const down = stub.nodes[0]?.address;
    stub.client.get.callsFake(async (key) => {
      if (stub.addressOf(key) === down) throw new Error('connect ECONNREFUSED');
      return 'value';
    });
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    changes = [];
    stub = createStubRedisCluster([[], [], []]);
    const keys = Array.from({ length: 200 }, (_, i) => `k:${i}`);
    onFirst = keys.filter((key) => stub.addressOf(key) === stub.nodes[0]?.address).slice(0, 5);
    onSecond = keys.filter((key) => stub.addressOf(key) === stub.nodes[1]?.address).slice(0, 5);
  });

  afterEach(() => clock.restore());

  it("opens the circuit of a failing master only: its keys are skipped, the other masters' keys still reach Redis", async () => {
    const cluster = guarded();
    killFirstMaster();
    for (const key of onFirst.slice(0, THRESHOLD)) await rejectionOf(() => cluster.get(key));
    expect(changes).to.deep.equal([{ open: true, node: '127.0.0.1:7000' }]);

    stub.client.get.resetHistory();
    const skipped = await rejectionOf(() => cluster.get(onFirst[4] as string));
    expect(isCircuitOpenError(skipped)).to.equal(true);
    for (const key of onSecond) expect(await cluster.get(key)).to.equal('value');
    expect(stub.client.get.getCalls().map((call) => call.args[0])).to.deep.equal(onSecond);
  });

  it('routes every key command by its key, multi-key commands and scripts by their first (all share one slot)', async () => {
    const cluster = guarded();
    stub.client.mGet.rejects(new Error('connect ECONNREFUSED'));
    for (let i = 0; i < THRESHOLD; i++) await rejectionOf(() => cluster.mGet([onFirst[0] as string]));
    stub.client.mGet.resetHistory();
    for (const command of [
      () => cluster.mGet([onFirst[1] as string]),
      () => cluster.unlink([onFirst[1] as string]),
      () => cluster.evalSha('sha', { keys: [onFirst[1] as string], arguments: [] }),
      () => cluster.eval('return 1', { keys: [onFirst[1] as string], arguments: [] }),
      () => cluster.set(onFirst[1] as string, Buffer.from('v'), {}),
      () => cluster.get(onFirst[1] as string),
      () => cluster.sAdd(onFirst[1] as string, ['m']),
      () => cluster.sPopCount(onFirst[1] as string, 1),
      () => cluster.pExpire(onFirst[1] as string, 1_000, 'GT'),
      () => cluster.ttl(onFirst[1] as string),
      () => cluster.expire(onFirst[1] as string, 1),
    ]) {
      expect(isCircuitOpenError(await rejectionOf(command))).to.equal(true);
    }
    for (const command of [
      'mGet',
      'unlink',
      'set',
      'get',
      'sAdd',
      'sPopCount',
      'pExpire',
      'ttl',
      'expire',
    ] as const) {
      expect(stub.client[command].called, command).to.equal(false);
    }
    const other = onSecond[0] as string;
    expect(await cluster.unlink([other])).to.equal(1);
    expect(await cluster.sAdd(other, ['m'])).to.equal(1);
    expect(await cluster.sPopCount(other, 1)).to.deep.equal([]);
    expect(await cluster.pExpire(other, 1_000)).to.equal(1);
    expect(await cluster.ttl(other)).to.equal(-2);
    expect(await cluster.expire(other, 1)).to.equal(0);
  });

  it("sends a node's own connection (SCAN, the pattern stamps) through that node's circuit", async () => {
    const cluster = guarded();
    killFirstMaster();
    for (const key of onFirst.slice(0, THRESHOLD)) await rejectionOf(() => cluster.get(key));
    const [first, second] = stub.nodes;
    expect(isCircuitOpenError(await rejectionOf(() => cluster.nodeClient(first as never)))).to.equal(true);
    expect(stub.nodeClient.calledWith(first as never), 'the open node is not even connected to').to.equal(
      false,
    );
    const node = await cluster.nodeClient(second as never);
    expect(await node.scan('0', { MATCH: '*', COUNT: 10 })).to.deep.equal({ cursor: '0', keys: [] });
  });

  it("keeps guarding through the store's views (withCommandOptions, withTypeMapping)", async () => {
    const cluster = guarded();
    expect(cluster.withCommandOptions?.({ timeout: 0 }), 'a client without options is its own view').to.equal(
      cluster,
    );
    const withOptions = sinon.stub().returns(stub.client);
    Object.assign(stub.client, { withCommandOptions: withOptions });
    const view = cluster.withCommandOptions?.({ timeout: 0 }).withTypeMapping(BUFFER_REPLIES);
    expect(withOptions.calledOnceWithExactly({ timeout: 0 })).to.equal(true);
    killFirstMaster();
    for (const key of onFirst.slice(0, THRESHOLD)) await rejectionOf(async () => view?.get(key));
    expect(changes).to.deep.equal([{ open: true, node: '127.0.0.1:7000' }]);
    expect(
      isCircuitOpenError(await rejectionOf(() => cluster.get(onFirst[0] as string))),
      'one circuit',
    ).to.equal(true);
  });

  it("after a failover, sends the dead master's slots through its replica's circuit, and drops the old one", async () => {
    const cluster = guarded();
    killFirstMaster();
    for (const key of onFirst.slice(0, THRESHOLD)) await rejectionOf(() => cluster.get(key));
    stub.promote(0, '127.0.0.1:7100');
    stub.client.get.resolves('value');
    stub.client.get.resetHistory();

    expect(await cluster.get(onFirst[0] as string)).to.equal('value');
    expect(stub.client.get.calledOnce, 'the replica is called at once, not after a probe').to.equal(true);
    expect(changes).to.deep.equal([
      { open: true, node: '127.0.0.1:7000' },
      { open: false, node: '127.0.0.1:7000' },
    ]);
  });

  it('guards commands the client routes by itself (no key) with a circuit of their own', async () => {
    const cluster = guarded();
    stub.client.scan.rejects(new Error('connect ECONNREFUSED'));
    for (let i = 0; i < THRESHOLD; i++) await rejectionOf(() => cluster.scan('0', { MATCH: '*', COUNT: 1 }));
    expect(changes).to.deep.equal([{ open: true, node: '(unrouted)' }]);
    expect(await cluster.get(onFirst[0] as string)).to.equal(null);
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { silentLogger } from '../../support/silent-logger.js';
import { createStubRedisCluster } from '../../support/stub-redis-cluster.js';
import { storedEntry } from './make-cache.js';

const THRESHOLD = 3;

describe('Cache over a stubbed Redis Cluster: one circuit per master', () => {
  let clock: sinon.SinonFakeTimers;
  let stub: ReturnType<typeof createStubRedisCluster>;
  let cache: Cache;
  let circuit: { open: boolean; node?: string }[];
  /** Keys (without the prefix) on the first master, which the specs kill, and on the second. */
  let onDead: string[];
  let onLive: string[];

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
    stub = createStubRedisCluster([[], [], []]);
    cache = createCache({
      redis: stub.client,
      prefix: 'c:',
      registry: false,
      logger: silentLogger,
      circuitBreakerThreshold: THRESHOLD,
      lockTtlMs: 0,
    });
    circuit = [];
    cache.events.on('circuit', (change) => circuit.push(change));
    const keys = Array.from({ length: 300 }, (_, i) => `item:${i}`);
    const on = (index: number) =>
      keys.filter((key) => stub.addressOf(`c:${key}`) === stub.nodes[index]?.address);
    onDead = on(0).slice(0, 6);
    onLive = on(1).slice(0, 6);
    const dead = stub.nodes[0]?.address;
    const reply = async (key: string) => {
      if (stub.addressOf(key) === dead) throw new Error('connect ECONNREFUSED');
      return storedEntry(`cached ${key}`);
    };
    stub.client.get.callsFake(reply);
    stub.client.mGet.callsFake(async (keys) => Promise.all(keys.map(reply)));
  });

  afterEach(async () => {
    await cache.close();
    clock.restore();
  });

  it("opens the dead master's circuit only: its keys are loaded without calling Redis, the others stay hits", async () => {
    for (const key of onDead.slice(0, THRESHOLD))
      expect(await cache.get(key, async () => 'loaded')).to.equal('loaded');
    expect(circuit).to.deep.equal([{ open: true, node: '127.0.0.1:7000' }]);

    stub.client.get.resetHistory();
    expect(await cache.get(onDead[THRESHOLD] as string, async () => 'loaded')).to.equal('loaded');
    for (const key of onLive) {
      expect((await cache.lookup(key, async () => 'loaded')).result, key).to.equal('hit');
    }
    expect(
      stub.client.get.getCalls().map((call) => call.args[0]),
      "Redis is called for the live master's keys, not for the dead one's",
    ).to.deep.equal(onLive.map((key) => `c:${key}`));
  });

  it("serves getMany's keys on the live masters from Redis and loads only the dead master's", async () => {
    const keys = [onLive[0], onDead[0], onLive[1], onDead[1]] as string[];
    const loader = sinon.spy(async (missing: readonly string[]) => missing.map((key) => `loaded ${key}`));
    expect(await cache.getMany(keys, loader)).to.deep.equal([
      `cached c:${onLive[0]}`,
      `loaded ${onDead[0]}`,
      `cached c:${onLive[1]}`,
      `loaded ${onDead[1]}`,
    ]);
    expect(loader.calledOnceWithExactly([onDead[0] as string, onDead[1] as string])).to.equal(true);
  });
});

import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { LookupResult } from '../../../src/events.js';
import { keySlot } from '../../../src/keys/key-slot.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually, holdsWithin } from '../../support/eventually.js';
import {
  type ClusterClient,
  type ClusterConnectOptions,
  startRedisCluster,
  type TestRedisCluster,
} from '../../support/redis-cluster.js';
import { silentLogger } from '../../support/silent-logger.js';

const PREFIX = 'nc:';
/** More than `circuitBreakerThreshold` (5): a burst of lookups can fail that many times in a row. */
const KEYS_PER_MASTER = 6;
/** Clients, each looking up every key at once (a burst), again and again. */
const CLIENTS = 2;
const PAUSE_MS = 5;
/** Bounds the load whatever happens; a healthy run makes a few hundred bursts. */
const MAX_BURSTS_PER_CLIENT = 2_000;
/** Deadlines that tell a hang from slowness on a busy machine, not speed limits. */
const OUTAGE_TIMEOUT_MS = 30_000;
/**
 * Longer than a busy machine takes to answer a live master: a slow answer would be a timeout, so a
 * MISS, and this spec is about which node fails, not about latency. With the default client the dead
 * master's commands wait that long until its circuit opens; with the README's, they fail at once.
 */
const REDIS_TIMEOUT_MS = 2_000;

interface Lookup {
  key: string;
  master: string;
  atMs: number;
  result: LookupResult | 'rejected';
  value?: string;
}

describe('Per-node circuit breakers on a Redis Cluster (3 masters, 3 replicas)', function () {
  this.timeout(4 * OUTAGE_TIMEOUT_MS);
  let cluster: TestRedisCluster;
  let cache: Cache | undefined;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, allowReadsWhenDown: true });
  });

  afterEach(async () => {
    await cache?.close();
    cache = undefined;
  });

  after(async () => {
    await cluster?.stop();
  });

  /** `count` keys of the cache whose slot the master at `address` serves, as the client sees it. */
  function keysOn(client: ClusterClient, address: string, count: number): string[] {
    const keys: string[] = [];
    for (let i = 0; keys.length < count; i++) {
      const key = `item:${i}`;
      if (client.slots[keySlot(PREFIX + key)]?.master.address === address) keys.push(key);
    }
    return keys;
  }

  /**
   * `CLIENTS` loops that each look up every key at once, as a page that fetches many resources would,
   * pause, and again, until `stop()`; every lookup is recorded.
   */
  function burstsOfLookups(keys: readonly { key: string; master: string }[]) {
    const lookups: Lookup[] = [];
    let running = true;
    const lookUp = async ({ key, master }: { key: string; master: string }) => {
      try {
        const { result, value } = await (cache as Cache).lookup(key, async () => `loaded ${key}`);
        lookups.push({ key, master, atMs: Date.now(), result, value });
      } catch {
        lookups.push({ key, master, atMs: Date.now(), result: 'rejected' });
      }
    };
    const clients = Array.from({ length: CLIENTS }, async () => {
      for (let burst = 0; running && burst < MAX_BURSTS_PER_CLIENT; burst++) {
        await Promise.all(keys.map(lookUp));
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
    });
    return {
      lookups,
      stop: async () => {
        running = false;
        await Promise.all(clients);
      },
    };
  }

  /**
   * Caches keys on every master, kills a master that has a replica while bursts of lookups go on, and
   * checks what each lookup got until the replica serves the dead master's slots.
   */
  async function killAMasterUnderLookups(clientOptions: ClusterConnectOptions): Promise<void> {
    const registry = new Registry();
    const client = await cluster.connect(clientOptions);
    cache = createCache({
      redis: client,
      prefix: PREFIX,
      registry,
      logger: silentLogger,
      redisTimeoutMs: REDIS_TIMEOUT_MS,
    });
    const circuitEvents: { open: boolean; node?: string }[] = [];
    cache.events.on('circuit', (change) => circuitEvents.push(change));
    const failures: { key: string; error: string }[] = [];
    cache.events.on('failure', ({ error, key }) => {
      if (key !== undefined)
        failures.push({ key, error: error instanceof Error ? error.message : String(error) });
    });
    const openCircuits = async () =>
      (await registry.getSingleMetric('cache_aside_circuit_open')?.get())?.values[0]?.value;

    const [victim] = await cluster.replicatedMasters();
    if (victim === undefined) throw new Error('no master with a replica to kill');
    const masters = (await cluster.servingMasters()).map((node) => node.address);
    expect(masters).to.have.length(3).and.include(victim.address);
    const keys = masters.flatMap((master) =>
      keysOn(client, master, KEYS_PER_MASTER).map((key) => ({ key, master })),
    );
    for (const { key } of keys) await cache.get(key, async () => `loaded ${key}`, { ttl: 600 });
    for (const { key } of keys) {
      expect((await cache.lookup(key, async () => 'reloaded')).result, `${key} is cached`).to.equal('hit');
    }

    const load = burstsOfLookups(keys);
    let killedAtMs = 0;
    let opened = false;
    let openWhileDown: number | undefined;
    try {
      await eventually(() => load.lookups.length >= 4 * keys.length, {
        message: 'the load runs before the kill',
      });
      killedAtMs = Date.now();
      await victim.kill();
      opened = await holdsWithin(() => circuitEvents.some((event) => event.open), {
        timeoutMs: OUTAGE_TIMEOUT_MS,
      });
      openWhileDown = await openCircuits();
      // Until the replica serves the dead master's slots, and the client sends them there.
      await cluster.waitUntilHealthy(OUTAGE_TIMEOUT_MS);
      await eventually(async () => (await openCircuits()) === 0, {
        timeoutMs: OUTAGE_TIMEOUT_MS,
        message: 'every circuit is closed again once the replica serves the slots',
      });
      const closedAtMs = Date.now();
      // The promoted replica is called through a circuit of its own, closed: its keys are HITs again.
      await eventually(
        () => {
          const hit = new Set(
            load.lookups
              .filter((lookup) => lookup.atMs > closedAtMs && lookup.result === 'hit')
              .map((l) => l.key),
          );
          return keys.every(({ key }) => hit.has(key));
        },
        { timeoutMs: OUTAGE_TIMEOUT_MS, message: "the dead master's keys are HITs again on its replica" },
      );
    } finally {
      await load.stop();
    }

    const afterKill = load.lookups.filter((lookup) => lookup.atMs > killedAtMs);
    const onLive = afterKill.filter((lookup) => lookup.master !== victim.address);
    const onVictim = afterKill.filter((lookup) => lookup.master === victim.address);
    const liveKeys = new Set(onLive.map((lookup) => lookup.key));
    const notHits = onLive.filter((lookup) => lookup.result !== 'hit');
    expect(
      notHits.length,
      `lookups of keys on the live masters that were not HITs, out of ${onLive.length}; first failures: ` +
        JSON.stringify(
          failures.filter((failure) => liveKeys.has(failure.key.slice(PREFIX.length))).slice(0, 3),
        ),
    ).to.equal(0);
    expect(onLive.length, 'keys on the live masters were looked up throughout').to.be.greaterThan(100);
    expect(
      onVictim.filter((lookup) => lookup.result === 'rejected'),
      'no lookup failed',
    ).to.deep.equal([]);
    expect(
      onVictim.filter((lookup) => lookup.result === 'miss').length,
      "the dead master's keys were answered by the loader",
    ).to.be.greaterThan(0);
    expect(
      afterKill.filter((lookup) => lookup.value !== `loaded ${lookup.key}`),
      'every lookup answered with its own value',
    ).to.deep.equal([]);
    expect(opened, "the dead master's circuit opened").to.equal(true);
    expect(
      [...new Set(circuitEvents.filter((event) => event.open).map((event) => event.node))],
      'only the dead master opened a circuit',
    ).to.deep.equal([victim.address]);
    expect(openWhileDown, 'cache_aside_circuit_open counts one open circuit').to.equal(1);
    expect(circuitEvents.at(-1), 'and it closed (or was dropped) once the replica took over').to.deep.equal({
      open: false,
      node: victim.address,
    });
    console.log(
      `      ${onLive.length} lookups of keys on the live masters after the kill, all HITs; ` +
        `${onVictim.length} of the dead master's keys: ` +
        `${onVictim.filter((lookup) => lookup.result === 'miss').length} MISS, ` +
        `${onVictim.filter((lookup) => lookup.result === 'hit').length} HIT (on the promoted replica)`,
    );
  }

  it('with a default createCluster() client: keys on the live masters stay HITs, the dead master’s keys fail open', async () => {
    await killAMasterUnderLookups({});
  });

  it('with the client options the README suggests: keys on the live masters stay HITs, the dead master’s fail open', async () => {
    await killAMasterUnderLookups({
      defaults: { disableOfflineQueue: true },
      topologyRefreshOnReconnectionAttemptStrategy: 500,
    });
  });
});

// `setMode(mode, { everywhere: true })` goes through the cache's invalidation channel: an app in another
// process, sharing the prefix and the Redis, switches with it, and back.
import { expect } from 'chai';
import request from 'supertest';
import { type Cache, createCache } from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { type ModeWorker, startModeWorker } from '../../support/mode-worker-process.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';

const PREFIX = 'modes:';
const CHANNEL = `${PREFIX}__ca:invalidations`;
/** How long a test waits for a switch to reach the other process: a bound on a hang, not on speed. */
const DELIVERY_BOUNDS = { timeoutMs: 15_000, maxTries: 2000, intervalMs: 10 };

describe('Mode switches across processes', function () {
  this.timeout(60_000);
  const redis = useConnectedRedis();
  let worker: ModeWorker;
  /** The cache of this process, same prefix as the worker's. */
  let cache: Cache;
  let switchesHere: string[];

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    worker = await startModeWorker({ redisUrl: redis.server.url, prefix: PREFIX });
    cache = createCache({
      redis: await redis.server.connect(),
      prefix: PREFIX,
      registry: false,
      logger: silentLogger,
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    cache.events.on('mode', ({ mode, fromAnotherInstance }) =>
      switchesHere.push(`${mode} ${fromAnotherInstance}`),
    );
    // A switch published before an instance listens is lost to it: no test switches before both do.
    await eventually(async () => (await redis.client.pubSubNumSub(CHANNEL))[CHANNEL] === 2, {
      message: 'both instances listen on the channel',
    });
  });

  beforeEach(() => {
    switchesHere = [];
  });

  afterEach(async () => {
    // Every test leaves both instances on, whatever it switched.
    await cache.setMode('on', { everywhere: true });
    await eventually(async () => (await worker.modes()).mode === 'on', DELIVERY_BOUNDS);
  });

  after(async () => {
    await worker?.stop();
    await cache?.close();
  });

  const getItem = () => request(worker.baseUrl).get('/items/1');

  it("setMode('off', { everywhere: true }) here makes the other process bypass its cache, and 'on' restores it", async () => {
    const missed = await getItem();
    expect(missed.headers['x-cache']).to.equal('MISS');
    // The entry is written after the response went out.
    await eventually(async () => (await getItem()).headers['x-cache'] === 'HIT');

    await cache.setMode('off', { everywhere: true });
    await eventually(async () => (await getItem()).headers['x-cache'] === 'BYPASS', DELIVERY_BOUNDS);
    const off = await getItem();
    expect(off.headers['cache-status']).to.match(/; fwd=bypass; fwd-status=200; detail=disabled$/);
    expect(off.body.run, 'the handler answers').to.be.above(missed.body.run);
    expect(await worker.modes()).to.deep.equal({ mode: 'off', switches: ['off true'] });

    await cache.setMode('on', { everywhere: true });
    await eventually(async () => (await getItem()).headers['x-cache'] === 'HIT', DELIVERY_BOUNDS);
    const on = await getItem();
    expect(on.body, 'the entry stored before the switch, untouched by it').to.deep.equal(missed.body);
    expect((await worker.modes()).switches).to.deep.equal(['off true', 'on true']);
  });

  it('a switch made in the other process reaches this one, told as coming from another instance', async () => {
    await worker.setMode('shadow', { everywhere: true });
    await eventually(() => cache.mode === 'shadow', DELIVERY_BOUNDS);
    expect(switchesHere).to.deep.equal(['shadow true']);
    expect((await worker.modes()).mode).to.equal('shadow');
  });

  it('a switch without `everywhere` stays in its process', async () => {
    const heardBefore = (await worker.modes()).switches.length;
    await cache.setMode('off');
    // Published after the local switch: had that one been published too, it would have arrived first.
    await cache.setMode('shadow', { everywhere: true });
    await eventually(async () => (await worker.modes()).mode === 'shadow', DELIVERY_BOUNDS);
    expect((await worker.modes()).switches.slice(heardBefore)).to.deep.equal(['shadow true']);
  });
});

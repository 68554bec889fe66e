// The runtime switches over a real Redis: `off` and a route's `enabled` keep requests away from Redis
// altogether; `shadow` reads and writes it while every client gets the handler's response, and counts
// in cache_aside_shadow_total how often the cache would have served something else.
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import {
  type Cache,
  createCache,
  metricsHandler,
  responseCache,
  responseCacheKey,
} from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';
import { originOf, served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

describe('Runtime switches over a real Redis', function () {
  this.timeout(30_000);
  const redis = useConnectedRedis();
  let cache: Cache;
  let registry: Registry;
  let server: Server;
  /** The data source of `/items/:id`, by id. */
  let data: Map<string, string>;
  /** Redis commands the cache sent, by operation. */
  let redisCalls: string[];

  beforeEach(async () => {
    await redis.client.flushAll();
    registry = new Registry();
    cache = createCache({
      redis: await redis.server.connect(),
      prefix: 'switches:',
      registry,
      logger: silentLogger,
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    redisCalls = [];
    cache.events.on('store-operation', ({ operation }) => redisCalls.push(operation));
    data = new Map([['1', 'v1']]);
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    // `?live` asks for an answer past the cache.
    app.get(
      '/items/:id',
      responseCache(cache, { enabled: (req) => req.query.live === undefined }),
      (req, res) => {
        res.json({ id: req.params.id, value: data.get(req.params.id) });
      },
    );
    server = await served(app);
  });

  afterEach(async () => {
    await cache.close();
  });

  const get = (path: string) => request(server).get(path);
  const storedBytes = () =>
    redis.client.get(cache.entryKey(responseCacheKey({ url: '/items/1', origin: originOf(server) })));

  /** `/items/1` answered, then stored in Redis. */
  async function storedOnce(): Promise<void> {
    expect((await get('/items/1')).headers['x-cache']).to.equal('MISS');
    await eventually(async () => (await get('/items/1')).headers['x-cache'] === 'HIT');
  }

  /** The value of one series of `/metrics`, as Prometheus would scrape it. */
  async function scraped(series: string): Promise<number | undefined> {
    const lines = (await get('/metrics')).text.split('\n');
    const line = lines.find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  /** Every shadow lookup counted so far, whatever its labels. */
  async function shadowCount(): Promise<number> {
    const lines = (await get('/metrics')).text.split('\n');
    const counted = lines.filter((line) => line.startsWith('cache_aside_shadow_total{'));
    return counted.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  it("off: requests go past the cache without one Redis call, and 'on' serves the entry it left alone", async () => {
    await storedOnce();
    const entryBefore = await storedBytes();
    await cache.setMode('off');
    data.set('1', 'v2');
    redisCalls = [];
    const answers = [await get('/items/1'), await get('/items/1')];
    expect(answers.map((answer) => answer.headers['x-cache'])).to.deep.equal(['BYPASS', 'BYPASS']);
    expect(answers.map((answer) => answer.body.value)).to.deep.equal(['v2', 'v2']);
    // The miss before the switch releases its lock after its response, so on a busy machine that
    // release may come now; `off` itself takes no lock (no lock_acquire) and reads nothing.
    expect(redisCalls.filter((operation) => operation !== 'lock_release')).to.deep.equal([]);
    expect(await storedBytes()).to.deep.equal(entryBefore);
    await cache.setMode('on');
    const on = await get('/items/1');
    expect([on.headers['x-cache'], on.body.value]).to.deep.equal(['HIT', 'v1']);
  });

  it('enabled: a request the route says no to goes past the cache without one Redis call', async () => {
    await storedOnce();
    redisCalls = [];
    const live = await get('/items/1?live');
    expect([live.headers['x-cache'], live.headers['cache-status']]).to.deep.equal([
      'BYPASS',
      'switches; fwd=bypass; fwd-status=200; detail=disabled',
    ]);
    expect(redisCalls).to.deep.equal([]);
  });

  it('shadow: clients always get the fresh body, and a changed source is counted as match="different"', async () => {
    await cache.setMode('shadow');
    const bodies: unknown[] = [];
    for (const value of ['v1', 'v1', 'v2', 'v2']) {
      data.set('1', value);
      const answer = await get('/items/1');
      expect(answer.headers['x-cache']).to.equal('BYPASS');
      bodies.push(answer.body.value);
      // Each request's comparison (and a would-be miss's write) is done before the next one looks up.
      await eventually(async () => (await shadowCount()) === bodies.length);
    }
    expect(bodies).to.deep.equal(['v1', 'v1', 'v2', 'v2']);
    const shadow = (would: string, match: string) =>
      scraped(
        `cache_aside_shadow_total{cache="switches",route="/items/:id",would="${would}",match="${match}"}`,
      );
    expect([
      await shadow('miss', 'none'),
      await shadow('hit', 'same'),
      await shadow('hit', 'different'),
    ]).to.deep.equal([1, 1, 2]);
    // Nothing was answered from the cache: no hit anywhere, the requests counted as `shadow`.
    expect(await scraped('cache_aside_lookups_total{cache="switches",result="hit"}')).to.equal(0);
    expect(
      await scraped(
        'cache_aside_request_duration_seconds_count{cache="switches",route="/items/:id",method="GET",result="shadow",status_class="2xx"}',
      ),
    ).to.equal(4);
    // Stored as the cache would have: the would-be hits left the first response in Redis.
    await cache.setMode('on');
    expect((await get('/items/1')).body.value).to.equal('v1');
  });
});

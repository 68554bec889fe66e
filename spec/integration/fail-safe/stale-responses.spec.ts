import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheOptions } from '../../../src/options.js';
import { connectRedis, type RedisConnection } from '../../../src/redis-connection.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { silentLogger } from '../../support/silent-logger.js';
import { type CachedApp, startCachedApp } from './support/cached-app.js';

// Entries are fresh for 300 ms and usable stale for a minute after: specs wait 400 ms to go stale.
// A slow source is one the spec holds (`source.hold()`) for as long as it needs: whether a request
// waited for it is then a matter of order (answered while the source still held its answer), which
// no busy machine changes, rather than of milliseconds.
const FRESH_SECONDS = 0.3;
const GO_STALE_MS = 400;

interface Answer {
  status: number;
  xCache: string | undefined;
  age: string | undefined;
  body: { id?: string; version?: number; error?: string };
}

describe('Stale responses over Redis (responseCache)', function () {
  this.timeout(20_000);
  let redis: TestRedis;
  let client: RedisConnection;
  let cache: Cache | undefined;
  let app: CachedApp | undefined;
  let prefixes = 0;
  /** Entries the current cache stored, and loads it finished (handler runs it captured or dropped). */
  let stored = 0;
  let loadsEnded = 0;

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    redis = await startRedis();
    client = await connectRedis({ url: redis.url });
  });

  after(async () => {
    client?.destroy();
    await redis?.stop();
  });

  afterEach(async () => {
    await app?.close();
    await cache?.close();
    app = undefined;
    cache = undefined;
  });

  async function start(options: Partial<CacheOptions> = {}): Promise<CachedApp> {
    cache = createCache({
      redis: client,
      prefix: `stale-${++prefixes}:`,
      ttl: FRESH_SECONDS,
      staleTtl: 60,
      registry: false,
      logger: silentLogger,
      ...options,
    });
    stored = 0;
    loadsEnded = 0;
    cache.events.on('store-operation', ({ operation, failed }) => {
      if (operation === 'set' && !failed) stored++;
    });
    cache.events.on('load', () => {
      loadsEnded++;
    });
    app = await startCachedApp(cache);
    return app;
  }

  async function get(path = '/items/1'): Promise<Answer> {
    const response = await fetch(`${app?.baseUrl}${path}`);
    return {
      status: response.status,
      xCache: response.headers.get('x-cache') ?? undefined,
      age: response.headers.get('age') ?? undefined,
      body: (await response.json()) as Answer['body'],
    };
  }

  /**
   * Caches version 1 of `/items/1` and lets it go stale. The entry is written after the response
   * went out, and its lifetime counts from that write: the wait starts once it is stored.
   */
  async function cacheThenGoStale(): Promise<void> {
    expect(await get()).to.deep.include({ status: 200, xCache: 'MISS' });
    await eventually(() => stored === 1, { message: 'the first response is stored' });
    await sleep(GO_STALE_MS);
  }

  describe('stale-while-revalidate (the default)', () => {
    it('answers at once from the stale entry (X-Cache: STALE) while one refresh runs for all', async () => {
      const app = await start();
      await cacheThenGoStale();
      const releaseSource = app.source.hold();

      const answers = await Promise.all(Array.from({ length: 10 }, () => get()));
      const runsEndedMeanwhile = app.handlerRunsEnded();
      releaseSource();

      for (const answer of answers) {
        expect(answer).to.deep.include({ status: 200, xCache: 'STALE', body: { id: '1', version: 1 } });
        expect(answer.age, 'Age header').to.match(/^\d+$/);
      }
      expect(
        runsEndedMeanwhile,
        'all answered while the source still held the refresh: none waited for it',
      ).to.equal(1);
      await eventually(() => stored === 2, { message: 'the refresh stores its response' });
      expect(app.handlerRuns(), 'the first run and one refresh').to.equal(2);
      expect(await get()).to.deep.include({ xCache: 'HIT', body: { id: '1', version: 2 } });
    });

    it('keeps serving the stale body while the data source fails, and the client never sees the error', async () => {
      const app = await start();
      await cacheThenGoStale();
      app.source.failing = true;

      const answers = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        answers.push(await get());
        await sleep(50);
      }

      expect(answers.map((a) => [a.status, a.xCache, a.body.version])).to.deep.equal([
        [200, 'STALE', 1],
        [200, 'STALE', 1],
        [200, 'STALE', 1],
      ]);
      expect(app.handlerRuns(), 'the source was asked again').to.be.at.least(2);
    });
  });

  describe('stale-if-error (staleWhileRevalidate: false)', () => {
    it('serves the stale body when the data source fails', async () => {
      const app = await start({ staleWhileRevalidate: false });
      await cacheThenGoStale();
      app.source.failing = true;

      expect(await get()).to.deep.include({ status: 200, xCache: 'STALE', body: { id: '1', version: 1 } });
    });

    it('serves the fresh body when the data source answers: stale is only a fallback', async () => {
      const app = await start({ staleWhileRevalidate: false });
      await cacheThenGoStale();

      expect(await get()).to.deep.include({ status: 200, xCache: 'MISS', body: { id: '1', version: 2 } });
      expect(app.handlerRuns()).to.equal(2);
    });

    it('serves the stale body once loadTimeoutMs has passed when the source is slow, and drops the late response', async () => {
      const app = await start({ staleWhileRevalidate: false, loadTimeoutMs: 100 });
      await cacheThenGoStale();
      const releaseSource = app.source.hold();

      const answer = await get();
      const runsEndedMeanwhile = app.handlerRunsEnded();
      releaseSource();

      expect(answer).to.deep.include({ status: 200, xCache: 'STALE', body: { id: '1', version: 1 } });
      expect(
        runsEndedMeanwhile,
        'answered while the source still held its answer: loadTimeoutMs ended the wait',
      ).to.equal(1);
      // The late run ends its load once the source answers; had it stored that response, the next
      // request (on the same Redis connection, so after that write) would find it.
      await eventually(() => loadsEnded === 2 && app.handlerRunsEnded() === 2, {
        message: 'the late run ends',
      });
      // One run for that request; its late response, made for a client that got the stale body, is
      // not stored. Once the source answers in time, the next request refreshes the entry.
      expect(app.handlerRuns()).to.equal(2);
      expect(stored, 'only the first response was stored').to.equal(1);
      app.source.delayMs = 0;
      expect(await get()).to.deep.include({ xCache: 'MISS', body: { id: '1', version: 3 } });
      await eventually(() => stored === 2, { message: 'the refreshed response is stored' });
      expect(await get()).to.deep.include({ xCache: 'HIT', body: { id: '1', version: 3 } });
    });
  });

  describe('without a usable stale entry', () => {
    it("passes the handler's error to Express's error handler, exactly as without the cache", async () => {
      const app = await start();
      app.source.failing = true;
      const uncached = uncachedTwin();

      const cached = await request(app.baseUrl).get('/items/1');
      const plain = await request(uncached.app).get('/items/1');

      expect(cached.status).to.equal(500);
      expect(cached.body).to.deep.equal({ error: 'data source down (run 1)' });
      expect([cached.status, cached.body]).to.deep.equal([plain.status, plain.body]);
      expect(app.errors).to.have.length(1);
      expect(app.errors[0]).to.be.instanceOf(Error);
    });

    it('passes the error on once the entry is past its grace period', async () => {
      const app = await start({ staleTtl: 0.2 });
      await get();
      await eventually(() => stored === 1, { message: 'the response is stored' });
      await sleep(FRESH_SECONDS * 1000 + 300);
      app.source.failing = true;

      const answer = await get();

      expect(answer).to.deep.include({ status: 500, body: { error: 'data source down (run 2)' } });
    });
  });
});

/** The same route without the cache, to compare with. */
function uncachedTwin(): { app: express.Express } {
  const app = express();
  let runs = 0;
  app.get('/items/:id', (_req, _res, next) => next(new Error(`data source down (run ${++runs})`)));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
  });
  return { app };
}

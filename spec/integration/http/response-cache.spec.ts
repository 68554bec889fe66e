import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import request from 'supertest';
import { type Cache, type CacheOptions, createCache, responseCacheKey } from '../../../src/index.js';
import { createFixtureApp, type FixtureApp, type FixtureAppOptions } from '../../support/app-factory.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { type RunningRedisTarget, redisTargets } from '../../support/redis-targets.js';
import { originOf } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';
import { rawBytes } from '../../unit/http/http-spec-helpers.js';

// The whole request path (Express → middleware → engine → real Redis and back), for each Redis deployment.
for (const target of redisTargets()) {
  describe(`responseCache over a real Redis (${target.name})`, () => {
    let redis: RunningRedisTarget;
    let cache: Cache;
    let fixture: FixtureApp;
    let server: Server | undefined;
    let storeCalls: string[];

    async function startApp(
      options: Omit<FixtureAppOptions, 'cache'> = {},
      cacheOptions: Partial<CacheOptions> = {},
    ): Promise<void> {
      cache = createCache({
        redis: redis.client,
        prefix: 'http:',
        registry: false,
        logger: silentLogger,
        // A loaded CI machine must not turn a slow but healthy Redis call into a miss.
        redisTimeoutMs: 2_000,
        ...cacheOptions,
      });
      storeCalls = [];
      // A load ends with its lock released: by a call of its own, or by the write of its value.
      cache.events.on('store-operation', ({ operation, releasedLock }) => {
        storeCalls.push(operation);
        if (releasedLock === true) storeCalls.push('lock_release');
      });
      fixture = createFixtureApp({ cache, ...options });
      const listening = fixture.app.listen(0, '127.0.0.1');
      server = listening;
      await new Promise((resolve) => listening.once('listening', resolve));
    }

    const get = (path: string) => request(server as Server).get(path);
    /** Waits until the cache has made `count` store calls of `operation`; the deadline bounds a hang, not speed. */
    const storeCallsMade = async (operation: string, count: number) => {
      const deadline = performance.now() + 10_000;
      while (storeCalls.filter((call) => call === operation).length < count) {
        if (performance.now() > deadline) throw new Error(`${count} × ${operation}: not within 10 s`);
        await sleep(5);
      }
    };
    const stored = async (url: string) =>
      (await redis.client.exists(
        cache.entryKey(responseCacheKey({ url, origin: originOf(server as Server) })),
      )) === 1;

    before(async function () {
      this.timeout(START_UP_HOOK_TIMEOUT_MS);
      redis = await target.start();
    });
    afterEach(async () => {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      server = undefined;
      await cache?.close();
      await redis.flushAll();
    });
    after(async () => {
      await redis?.stop();
    });

    it('misses, then hits with the same status, headers and body, in one Redis round trip', async () => {
      await startApp();
      const miss = await get('/api/json');
      // The entry is written after the response went out; wait for the write to finish.
      await storeCallsMade('lock_release', 1);
      storeCalls = [];
      const hit = await get('/api/json');
      expect(miss.headers['x-cache']).to.equal('MISS');
      expect(hit.headers['x-cache']).to.equal('HIT');
      expect(hit.body).to.deep.equal(miss.body);
      expect(hit.headers.etag).to.equal(miss.headers.etag);
      expect(storeCalls).to.deep.equal(['get']);
      expect(fixture.calls('json')).to.equal(1);
    });

    it('stores binary and streamed bodies byte for byte', async () => {
      await startApp();
      let stored = 0;
      for (const [path, expected] of [
        ['/api/binary', fixture.binaryBody],
        ['/api/streamed', fixture.streamedBody],
      ] as const) {
        await get(path);
        await storeCallsMade('set', ++stored);
        const hit = await get(path).buffer(true).parse(rawBytes);
        expect(hit.headers['x-cache']).to.equal('HIT');
        expect((hit.body as Buffer).equals(expected), path).to.equal(true);
      }
    });

    it('answers HEAD from the GET entry and If-None-Match with 304', async () => {
      await startApp();
      const miss = await get('/api/json');
      // The response goes out before it is stored: the next requests wait for the write.
      await storeCallsMade('set', 1);
      const head = await request(server as Server).head('/api/json');
      const revalidation = await get('/api/json').set('If-None-Match', String(miss.headers.etag));
      expect(head.headers['x-cache']).to.equal('HIT');
      expect(head.headers['content-length']).to.equal(miss.headers['content-length']);
      expect(revalidation.status).to.equal(304);
      expect(fixture.calls('json')).to.equal(1);
    });

    it('keeps one entry per Vary value, and one per query whatever its order', async () => {
      await startApp();
      // The response goes out before it is stored (on a Cluster, a tagged entry takes two round
      // trips: its tag's slot, then its own): each next request waits for the write before it.
      await get('/api/vary').set('Accept-Language', 'fr');
      await storeCallsMade('set', 2);
      const french = await get('/api/vary').set('Accept-Language', 'fr');
      const german = await get('/api/vary').set('Accept-Language', 'de');
      await get('/api/items/1?b=2&a=1');
      await storeCallsMade('set', 4);
      const reordered = await get('/api/items/1?a=1&b=2');
      expect(french.headers['x-cache']).to.equal('HIT');
      expect(german.body.language).to.equal('de');
      expect(reordered.headers['x-cache']).to.equal('HIT');
    });

    it('never stores Set-Cookie, private, no-store or 500 responses', async () => {
      await startApp();
      for (const route of ['set-cookie', 'private', 'no-store', 'server-error'] as const) {
        await get(`/api/${route}`);
        const second = await get(`/api/${route}`);
        expect(second.headers['x-cache'], route).to.equal('MISS');
        expect(await stored(`/api/${route}`), route).to.equal(false);
      }
    });

    it('bypasses requests with Authorization or Cookie', async () => {
      await startApp();
      const authorized = await get('/api/me').set('Authorization', 'Bearer t');
      const withCookie = await get('/api/me').set('Cookie', 'sid=1');
      expect(authorized.headers['x-cache']).to.equal('BYPASS');
      expect(withCookie.headers['x-cache']).to.equal('BYPASS');
      expect(await stored('/api/me')).to.equal(false);
    });

    it('serves a body over maxBodyBytes whole and does not store it', async () => {
      await startApp({ largeBodyBytes: 1536 * 1024 });
      const response = await get('/api/large').buffer(true).parse(rawBytes);
      expect(response.body).to.have.length(1536 * 1024);
      expect(await stored('/api/large')).to.equal(false);
    });

    it('drops entries by tag when a mutation succeeds', async () => {
      await startApp({ routeOptions: { item: { tags: (req) => [`item:${String(req.params.id)}`] } } });
      await get('/api/items/1');
      await get('/api/items/2');
      // Tagged entries on a Cluster are written in two steps after their responses went out.
      await storeCallsMade('set', 2);
      await request(server as Server)
        .put('/api/items/1')
        .expect(200);
      expect((await get('/api/items/1')).headers['x-cache']).to.equal('MISS');
      expect((await get('/api/items/2')).headers['x-cache']).to.equal('HIT');
    });

    it('runs the handler once for concurrent requests of a cold key', async () => {
      await startApp();
      fixture.slowGate.close();
      const pending = Array.from({ length: 5 }, () => get('/api/slow').then((response) => response));
      await sleep(100);
      fixture.slowGate.open();
      const responses = await Promise.all(pending);
      expect(fixture.calls('slow')).to.equal(1);
      expect(new Set(responses.map((response) => response.body.call))).to.deep.equal(new Set([1]));
    });

    it('expires entries after their ttl', async () => {
      await startApp({ cacheOptions: { ttl: 1 } });
      await get('/api/json');
      await storeCallsMade('set', 1);
      expect((await get('/api/json')).headers['x-cache']).to.equal('HIT');
      await sleep(1_100);
      expect((await get('/api/json')).headers['x-cache']).to.equal('MISS');
    });

    it('serves a stale entry and refreshes it in the background', async () => {
      await startApp({}, { ttl: 1, staleTtl: 30 });
      await get('/api/json');
      await storeCallsMade('set', 1);
      await sleep(1_100);
      const stale = await get('/api/json');
      expect(stale.headers['x-cache']).to.equal('STALE');
      // The refresh runs the handler again and stores its response.
      await storeCallsMade('set', 2);
      const fresh = await get('/api/json');
      expect(fresh.headers['x-cache']).to.equal('HIT');
      expect(fresh.body.call).to.equal(2);
    });

    for (const placement of ['before', 'after'] as const) {
      it(`never serves gzip to a client that did not accept it (compression ${placement} the cache)`, async () => {
        await startApp({ compression: placement });
        for (const acceptEncoding of ['gzip', 'identity', 'gzip', 'identity']) {
          const response = await get('/api/text')
            .set('Accept-Encoding', acceptEncoding)
            .buffer(true)
            .parse(rawBytes);
          expect((response.body as Buffer).toString()).to.equal(fixture.textBody);
          expect(response.headers['content-encoding']).to.equal(
            acceptEncoding === 'gzip' ? 'gzip' : undefined,
          );
        }
      });
    }
  });
}

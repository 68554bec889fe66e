import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { type Cache, createCache, responseCacheKey } from '../../../src/index.js';
import { type AdminApp, createAdminApp } from '../../support/admin-app.js';
import { eventually } from '../../support/eventually.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { useRedisPerTest } from '../../support/redis-server-fixture.js';
import { useRedisTarget } from '../../support/redis-target-fixture.js';
import { redisTargets } from '../../support/redis-targets.js';
import { originOf, served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';
import { sampleValue } from '../../unit/observability/read-metric.js';

for (const target of redisTargets()) {
  describe(`cacheAdmin over a real Redis (${target.name})`, function () {
    this.timeout(60_000);
    const fixture = useRedisTarget(target);
    let registry: Registry;
    let logs: RecordingLogger;
    let cache: Cache;
    let admin: AdminApp;
    let origin: string;

    beforeEach(async () => {
      registry = new Registry();
      logs = new RecordingLogger('warn');
      cache = fixture.cacheOver(fixture.redis.client, { name: 'shop', registry, logger: logs.logger });
      admin = createAdminApp({ cache });
      origin = originOf(await served(admin.app));
    });

    /** GETs `path` from the app (with `Accept-Language` when given); resolves to its `X-Cache`. */
    const fetch = async (path: string, language?: string): Promise<string> => {
      const request = (await admin.request()).get(path);
      const response = await (language === undefined ? request : request.set('Accept-Language', language));
      expect(response.status, path).to.equal(200);
      return String(response.headers['x-cache']);
    };

    describe('GET /entry', () => {
      it('tells about a cached response: status, stored headers, size, age, ttl and stale ttl left, tags', async () => {
        await admin.cached('/api/items/1');
        const { body } = await admin.admin('get', '/_cache/entry?url=/api/items/1', 200);
        expect(body).to.include({
          url: `${origin}/api/items/1`,
          key: responseCacheKey(`${origin}/api/items/1`),
          cached: true,
          kind: 'response',
          tagsComplete: true,
        });
        expect(body.tags).to.deep.equal(['item:1', 'items']);
        const { response } = body;
        expect(response).to.include({
          status: 200,
          route: '/api/items/:id',
          fresh: true,
          staleTtlSeconds: 60,
        });
        expect(response.headers).to.deep.include(['X-Item', '1']);
        expect(response.bodyBytes).to.equal(Buffer.byteLength(JSON.stringify({ id: '1', call: 1 })));
        expect(response.sizeBytes).to.be.above(response.bodyBytes);
        expect(response.ageSeconds).to.be.within(0, 30);
        expect(response.ttlSeconds).to.be.within(0.001, 30);
        expect(response.storeTtlSeconds).to.be.within(60, 90);
        expect(Date.parse(response.freshUntil) - Date.parse(response.storedAt)).to.be.within(29_000, 31_000);
        expect(Date.parse(response.staleUntil) - Date.parse(response.freshUntil)).to.equal(60_000);
      });

      it('says an uncached URL is absent, at the absolute URL given too', async () => {
        const { body } = await admin.admin(
          'get',
          `/_cache/entry?url=${encodeURIComponent(`${origin}/api/items/9`)}`,
          200,
        );
        expect(body).to.deep.equal({
          url: `${origin}/api/items/9`,
          key: responseCacheKey(`${origin}/api/items/9`),
          cached: false,
          kind: 'absent',
        });
      });

      it("lists the variants of a Vary'd response, or the one that `header` selects", async () => {
        await admin.cached('/api/lang', 'fr');
        await admin.cached('/api/lang', 'de');
        await admin.cached('/api/lang');
        const all = (await admin.admin('get', '/_cache/entry?url=/api/lang', 200)).body;
        expect(all).to.include({ cached: true, kind: 'variants', variantsComplete: true });
        expect(all.record.vary).to.deep.equal(['accept-language']);
        expect(all.tags).to.deep.equal(['lang']);
        const selectors = all.variants.map((variant: { requestHeaders: object }) => variant.requestHeaders);
        expect(selectors).to.have.deep.members([
          { 'accept-language': 'fr' },
          { 'accept-language': 'de' },
          { 'accept-language': null },
        ]);
        const french = (
          await admin.admin('get', '/_cache/entry?url=/api/lang&header=Accept-Language:%20fr', 200)
        ).body;
        expect(french.variants).to.have.lengthOf(1);
        expect(french.variants[0].requestHeaders).to.deep.equal({ 'accept-language': 'fr' });
        const italian = (
          await admin.admin('get', '/_cache/entry?url=/api/lang&header=accept-language:it', 200)
        ).body;
        expect(italian).to.include({ cached: false, kind: 'variants' });
        expect(italian.variants).to.deep.equal([]);
      });
    });

    describe('GET /tags/:tag', () => {
      it('pages the keys of a tag with a cursor until done, each page within the limit', async () => {
        // Over 128 keys: Redis keeps the set as a hash table, walked in several SSCAN steps.
        const keys = Array.from({ length: 300 }, (_, index) => `bulk:${index}`);
        await Promise.all(keys.map((key) => cache.set(key, key, { tags: ['bulk'] })));
        const pages: string[][] = [];
        let cursor: string | null = null;
        do {
          const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
          const { body } = await admin.admin('get', `/_cache/tags/bulk?limit=40${query}`, 200);
          expect(body.tag).to.equal('bulk');
          expect(body.done).to.equal(body.cursor === null);
          pages.push(body.keys);
          cursor = body.cursor;
          expect(pages.length, 'pages').to.be.below(100);
        } while (cursor !== null);
        expect(pages.every((page) => page.length <= 40)).to.equal(true);
        expect(pages.length).to.be.at.least(8);
        expect([...new Set(pages.flat())].sort()).to.deep.equal([...keys].sort());
      });

      it('lists the response keys of a tag set by handlers', async () => {
        await admin.cached('/api/items/1');
        await admin.cached('/api/items/2');
        const { body } = await admin.admin('get', '/_cache/tags/items', 200);
        expect(body).to.include({ done: true, cursor: null });
        expect([...body.keys].sort()).to.deep.equal(
          [responseCacheKey(`${origin}/api/items/1`), responseCacheKey(`${origin}/api/items/2`)].sort(),
        );
      });
    });

    describe('purges', () => {
      it('DELETE /entry purges one URL, answering how many entries went', async () => {
        await admin.cached('/api/items/1');
        await admin.cached('/api/items/2');
        const { body } = await admin.admin('delete', '/_cache/entry?url=/api/items/1', 200);
        expect(body).to.deep.equal({
          purged: 1,
          keys: [responseCacheKey(`${origin}/api/items/1`)],
          complete: true,
        });
        expect(await fetch('/api/items/1')).to.equal('MISS');
        expect(await fetch('/api/items/2')).to.equal('HIT');
        expect((await admin.admin('delete', '/_cache/entry?url=/api/items/9', 200)).body).to.deep.equal({
          purged: 0,
          keys: [],
          complete: true,
        });
      });

      it("DELETE /entry purges a Vary'd URL with all its variants, or the one `header` selects", async () => {
        for (const language of ['fr', 'de', 'en']) await admin.cached('/api/lang', language);
        const one = await admin.admin('delete', '/_cache/entry?url=/api/lang&header=accept-language:de', 200);
        expect(one.body.purged).to.equal(1);
        expect(await fetch('/api/lang', 'fr')).to.equal('HIT');
        expect(await fetch('/api/lang', 'de')).to.equal('MISS');
        await admin.cached('/api/lang', 'de');
        const all = await admin.admin('delete', '/_cache/entry?url=/api/lang', 200);
        expect(all.body.purged, 'the record and its three variants').to.equal(4);
        expect(await fetch('/api/lang', 'en')).to.equal('MISS');
        // That miss is stored after its response: waited for, so that it lands before Redis is emptied
        // for the next test rather than after.
        await admin.cached('/api/lang', 'en');
      });

      it('DELETE /tags/:tag and DELETE /entries purge, answering how many entries went', async () => {
        for (const id of ['1', '2', '3']) await admin.cached(`/api/items/${id}`);
        await admin.cached('/api/lang', 'fr');
        expect((await admin.admin('delete', '/_cache/tags/item:2', 200)).body).to.deep.equal({ purged: 1 });
        expect((await admin.admin('delete', '/_cache/entries?pattern=/api/items/*', 200)).body).to.deep.equal(
          {
            purged: 2,
          },
        );
        expect(await fetch('/api/items/1')).to.equal('MISS');
        expect(await fetch('/api/lang', 'fr')).to.equal('HIT');
        expect((await admin.admin('delete', '/_cache/tags/lang', 200)).body).to.deep.equal({ purged: 2 });
      });

      it('logs every purge with who, when, what and how many, and counts it in the metrics', async () => {
        await admin.cached('/api/items/1');
        await admin.cached('/api/items/2');
        const before = Date.now();
        await admin.admin('delete', '/_cache/tags/items', 200);
        await admin.admin('delete', '/_cache/entries?pattern=/nothing/*', 200);
        await admin.admin('delete', '/_cache/entry?url=/api/lang&header=accept-language:de', 200);
        const purges = logs.withMessage('cache purge');
        expect(purges).to.have.lengthOf(3);
        expect(purges[0]).to.include({
          level: 'warn',
          cache: 'shop',
          kind: 'tag',
          target: 'items',
          actor: 'ops@example',
          purged: 2,
        });
        expect(Date.parse(String(purges[0]?.at))).to.be.within(before, Date.now());
        expect(purges[1]).to.include({ kind: 'pattern', target: '/nothing/*', purged: 0 });
        expect(purges[2]).to.include({ kind: 'entry', target: `${origin}/api/lang [accept-language: de]` });
        const sample = (name: string, kind: string) => sampleValue(registry, name, { cache: 'shop', kind });
        expect(await sample('cache_aside_purges_total', 'tag')).to.equal(1);
        expect(await sample('cache_aside_purged_entries_total', 'tag')).to.equal(2);
        expect(await sample('cache_aside_purges_total', 'pattern')).to.equal(1);
        expect(await sample('cache_aside_purged_entries_total', 'pattern')).to.equal(0);
        expect(await sample('cache_aside_purges_total', 'entry')).to.equal(1);
        expect(await sample('cache_aside_purged_entries_total', 'entry')).to.equal(0);
      });

      it("reaches another instance's memory tier: its next request is a miss", async () => {
        const memoryTier = { maxEntries: 100, maxBytes: 1_000_000, ttlMs: 60_000 };
        const other = createAdminApp({
          cache: fixture.cacheOver(await fixture.redis.connect(), { memoryTier }),
        });
        const otherFetch = async () =>
          String((await (await other.request()).get('/api/items/1').expect(200)).headers['x-cache']);
        expect(await otherFetch()).to.equal('MISS');
        expect(await otherFetch()).to.equal('HIT');
        const otherOrigin = originOf(await served(other.app));
        await admin.admin(
          'delete',
          `/_cache/entry?url=${encodeURIComponent(`${otherOrigin}/api/items/1`)}`,
          200,
        );
        await eventually(async () => (await otherFetch()) === 'MISS');
      });
    });
  });
}

describe('cacheAdmin while Redis is down (standalone)', function () {
  this.timeout(60_000);
  let client: ReturnType<typeof createClient> | undefined;
  let cache: Cache | undefined;
  const redis = useRedisPerTest(async () => {
    await cache?.close();
    client?.destroy();
  });

  it('answers 503 with a JSON error, within the Redis timeout, rather than hang', async () => {
    client = createClient({ url: redis.current.url });
    // node-redis throws when a client emits `error` with no listener, and this one sees Redis go.
    client.on('error', () => undefined);
    await client.connect();
    cache = createCache({
      redis: client,
      registry: false,
      logger: silentLogger,
      redisTimeoutMs: 500,
      invalidationAttempts: 1,
    });
    const admin = createAdminApp({ cache });
    await admin.cached('/api/items/1');
    await redis.current.stop();
    await eventually(() => client?.isReady === false, { message: 'the client saw Redis go' });
    for (const [method, path] of [
      ['get', '/_cache/entry?url=/api/items/1'],
      ['get', '/_cache/tags/items'],
      ['delete', '/_cache/tags/items'],
      ['delete', '/_cache/entries?pattern=/api/*'],
    ] as const) {
      const { body } = await admin.admin(method, path, 503);
      expect(body.code, path).to.be.oneOf([
        'E_STORE_TIMEOUT',
        'E_STORE_FAILED',
        'E_CIRCUIT_OPEN',
        'E_INVALIDATION_FAILED',
      ]);
    }
    expect((await admin.admin('get', '/_cache/stats', 200)).body.stats.errors).to.be.above(0);
  });
});

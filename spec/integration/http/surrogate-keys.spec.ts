import type { Server } from 'node:http';
import { expect } from 'chai';
import compression from 'compression';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import {
  addCacheTags,
  type Cache,
  createCache,
  type ResponseCacheOptions,
  responseCache,
  responseCacheKey,
} from '../../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { eventually } from '../../support/eventually.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';
import { originOf, served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

/** How the fixture app is put together for one test. */
interface AppOptions {
  route?: ResponseCacheOptions;
  /** `compression()` mounted before the cache, app-wide. */
  compression?: boolean;
  /** Middleware mounted before the cache. */
  before?: RequestHandler;
}

// Handlers tag their responses with CDN headers (Fastly's Surrogate-Key, Cloudflare's Cache-Tag): the
// whole path over a real Redis, from the handler's headers to `invalidateTags`.
describe('responseCache: Surrogate-Key and Cache-Tag headers as tags, over a real Redis', () => {
  const redis = useConnectedRedis();
  let cache: Cache;
  let calls: number;
  let server: Server;

  afterEach(async () => {
    await cache?.close();
    await redis.client.flushAll();
  });

  async function start(handler: RequestHandler, options: AppOptions = {}): Promise<void> {
    cache = createCache({
      redis: redis.client,
      prefix: 'sk:',
      registry: false,
      logger: silentLogger,
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    calls = 0;
    const app = express();
    if (options.compression === true) app.use(compression());
    if (options.before !== undefined) app.use(options.before);
    const counted: RequestHandler = (req, res, next) => {
      calls++;
      return handler(req, res, next);
    };
    app.get('/items/:id', responseCache(cache, options.route), counted);
    server = await served(app);
  }

  const entryKeyOf = (path: string) =>
    cache.entryKey(responseCacheKey({ url: path, origin: originOf(server) }));
  const stored = async (path: string) => (await redis.client.exists(entryKeyOf(path))) === 1;
  /** The stored entry as text: what an inspection of the entry shows, headers included. */
  const storedText = async (path = '/items/1') => String(await redis.client.get(entryKeyOf(path)));

  /** A miss, then, once its entry is stored, a hit. */
  async function missThenHit(path = '/items/1') {
    const miss = await request(server).get(path);
    await eventually(() => stored(path), { message: `${path} stored` });
    const hit = await request(server).get(path);
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).to.deep.equal(['MISS', 'HIT']);
    return { miss, hit };
  }

  /** Whether invalidating `tag` deleted the entry of `path`: the next request runs the handler. */
  async function purgedBy(tag: string, path = '/items/1'): Promise<boolean> {
    const count = await cache.invalidateTags([tag]);
    const before = calls;
    const after = await request(server).get(path);
    const purged = count === 1 && after.headers['x-cache'] === 'MISS' && calls === before + 1;
    await eventually(() => stored(path), { message: `${path} stored again` });
    return purged;
  }

  it('tags the response with the keys of its Surrogate-Key header, which no client receives', async () => {
    await start((_req, res) => {
      res.set('Surrogate-Key', 'product-1  catalog').json({ id: 1 });
    });
    const { miss, hit } = await missThenHit();
    for (const response of [miss, hit]) expect(response.headers).to.not.have.property('surrogate-key');
    expect(hit.body).to.deep.equal({ id: 1 });
    expect(await storedText()).to.not.match(/surrogate-key/i);
    expect(await purgedBy('product-1')).to.equal(true);
    expect(await purgedBy('catalog')).to.equal(true);
    expect(await purgedBy('product')).to.equal(false);
  });

  it('tags the response with the tags of its Cache-Tag header, which no client receives', async () => {
    await start((_req, res) => {
      res.set('Cache-Tag', 'brand-7 , sale,').json({ id: 1 });
    });
    const { miss, hit } = await missThenHit();
    for (const response of [miss, hit]) expect(response.headers).to.not.have.property('cache-tag');
    expect(await purgedBy('brand-7')).to.equal(true);
    expect(await purgedBy('sale')).to.equal(true);
  });

  it("keeps both headers on the miss and the hit with surrogateHeaders: 'keep', for a CDN in front", async () => {
    await start(
      (_req, res) => {
        res.set({ 'Surrogate-Key': 'product-1 catalog', 'Cache-Tag': 'brand-7,sale' }).json({ id: 1 });
      },
      { route: { surrogateHeaders: 'keep' } },
    );
    const { miss, hit } = await missThenHit();
    for (const response of [miss, hit]) {
      expect(response.headers['surrogate-key']).to.equal('product-1 catalog');
      expect(response.headers['cache-tag']).to.equal('brand-7,sale');
    }
    expect(await storedText()).to.match(/Surrogate-Key/);
    expect(await purgedBy('catalog')).to.equal(true);
    expect(await purgedBy('sale')).to.equal(true);
  });

  it("combines them with the route's tags and addCacheTags: any of them purges the entry", async () => {
    await start(
      (req, res) => {
        addCacheTags(res, `item:${req.params.id}`);
        // `items` repeats the route's tag: it is indexed once, and purges the entry once.
        res.set({ 'Surrogate-Key': 'items product-1', 'Cache-Tag': 'sale' }).json({ id: req.params.id });
      },
      { route: { tags: ['items'] } },
    );
    await missThenHit();
    for (const tag of ['items', 'item:1', 'product-1', 'sale']) {
      expect(await purgedBy(tag), tag).to.equal(true);
    }
  });

  it('strips them from compressed responses, hit and miss, with compression in front', async () => {
    const body = { text: 'compressible '.repeat(200) };
    await start(
      (_req, res) => {
        res.set({ 'Surrogate-Key': 'catalog', 'Cache-Tag': 'sale' }).json(body);
      },
      { compression: true },
    );
    const { miss, hit } = await missThenHit();
    for (const response of [miss, hit]) {
      expect(response.headers['content-encoding']).to.equal('gzip');
      expect(response.headers).to.not.have.property('surrogate-key');
      expect(response.headers).to.not.have.property('cache-tag');
      expect(response.body).to.deep.equal(body);
    }
    expect(await purgedBy('catalog')).to.equal(true);
  });

  it('strips headers given to writeHead, and those that middleware before the cache set, hit or miss', async () => {
    await start(
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Surrogate-Key': 'product-1' });
        res.end('written with writeHead');
      },
      {
        before: (_req, res, next) => {
          res.set('Cache-Tag', 'site');
          next();
        },
      },
    );
    const { miss, hit } = await missThenHit();
    for (const response of [miss, hit]) {
      expect(response.headers).to.not.have.property('surrogate-key');
      expect(response.headers).to.not.have.property('cache-tag');
      expect(response.text).to.equal('written with writeHead');
    }
    expect(await storedText()).to.not.match(/surrogate-key/i);
    expect(await purgedBy('product-1')).to.equal(true);
    expect(await purgedBy('site')).to.equal(true);
  });

  it('strips them from a hit whose earlier middleware set them although the miss had none', async () => {
    await start(
      (_req, res) => {
        res.json({ id: 1 });
      },
      {
        before: (req, res, next) => {
          const tag = req.get('x-tag');
          if (tag !== undefined) res.set('Cache-Tag', tag);
          next();
        },
      },
    );
    await missThenHit();
    const hit = await request(server).get('/items/1').set('X-Tag', 'late');
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(hit.headers).to.not.have.property('cache-tag');
  });

  it('strips them from responses that bypass the cache too', async () => {
    await start((_req, res) => {
      res.set({ 'Surrogate-Key': 'catalog', 'Cache-Tag': 'sale' }).json({ id: 1 });
    });
    const bypassed = await request(server).get('/items/1').set('Authorization', 'Bearer token');
    expect(bypassed.headers['x-cache']).to.equal('BYPASS');
    expect(bypassed.headers).to.not.have.property('surrogate-key');
    expect(bypassed.headers).to.not.have.property('cache-tag');
  });

  it('sends but does not store a response with an oversized tag, and reports why', async () => {
    await start((_req, res) => {
      res.set('Surrogate-Key', `catalog ${'x'.repeat(1025)}`).json({ id: 1 });
    });
    const failures: unknown[] = [];
    cache.events.on('load', ({ failed, error }) => failed && failures.push(error));

    const first = await request(server).get('/items/1');
    await eventually(() => failures.length === 1, { message: 'the failed load reported' });
    const second = await request(server).get('/items/1');

    expect([first.status, first.body]).to.deep.equal([200, { id: 1 }]);
    expect(first.headers).to.not.have.property('surrogate-key');
    expect(second.headers['x-cache']).to.equal('MISS');
    expect(calls).to.equal(2);
    expect(await stored('/items/1')).to.equal(false);
    expect(String(failures[0])).to.match(/surrogate-key.*1025 characters/);
  });
});

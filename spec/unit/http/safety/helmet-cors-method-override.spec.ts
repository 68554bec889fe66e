import { expect } from 'chai';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import methodOverride from 'method-override';
import { type Cache, responseCache } from '../../../../src/index.js';
import type { ExpressModule } from '../../../support/app-factory.js';
import { createTestCache } from '../http-spec-helpers.js';
import { type CountedApp, client, EXPRESS_MAJORS, jsonOf } from './safety-helpers.js';

/** Headers `helmet()` sets by default, and the values it gives them. */
const HELMET_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
] as const;

type Placement = 'before the cache (app.use)' | 'after the cache (on the route)';
const PLACEMENTS: readonly Placement[] = ['before the cache (app.use)', 'after the cache (on the route)'];

/** An app with `middleware` placed before or after the cache of its one route, `/page`. */
function appWith(
  express: ExpressModule,
  cache: Cache,
  middleware: RequestHandler,
  placement: Placement,
): CountedApp {
  const app = express();
  let calls = 0;
  const chain: RequestHandler[] =
    placement === 'before the cache (app.use)' ? [responseCache(cache)] : [responseCache(cache), middleware];
  if (placement === 'before the cache (app.use)') app.use(middleware);
  app.get('/page', ...chain, (req, res) => {
    calls++;
    res.json({ page: 'shared', origin: req.headers.origin ?? null, call: calls });
  });
  return { app, calls: () => calls };
}

describe('responseCache with helmet, cors and method-override', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    describe(major, () => {
      for (const placement of PLACEMENTS) {
        it(`helmet() ${placement}: a hit carries helmet’s headers, with the values of the miss, once`, async () => {
          const { cache, store } = createTestCache();
          const { app, calls } = appWith(express, cache, helmet(), placement);
          const http = await client(app);

          const miss = await http.get('/page');
          const hit = await http.get('/page');

          expect(miss.headers['x-cache']).to.equal('MISS');
          expect(hit.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(hit)).to.deep.equal({ page: 'shared', origin: null, call: 1 });
          expect(calls()).to.equal(1);
          expect(store.writes).to.have.length(1);
          for (const name of HELMET_HEADERS) {
            expect(miss.headers[name], `${name} on the miss`).to.be.a('string').and.not.equal('');
            expect(hit.headers[name], `${name} on the hit`).to.equal(miss.headers[name]);
          }
          expect(hit.headers['x-content-type-options']).to.equal('nosniff');
          expect(hit.headers['x-frame-options']).to.equal('SAMEORIGIN');
        });

        it(`helmet() ${placement}: a hit does not bring back the X-Powered-By header helmet removed from the miss`, async () => {
          const { cache } = createTestCache();
          const { app } = appWith(express, cache, helmet(), placement);
          const http = await client(app);

          const miss = await http.get('/page');
          const hit = await http.get('/page');

          expect(miss.headers['x-powered-by'], 'on the miss').to.equal(undefined);
          expect(hit.headers['x-cache']).to.equal('HIT');
          expect(hit.headers['x-powered-by'], 'on the hit').to.equal(undefined);
        });

        it(`cors({ origin: true }) ${placement}: each Origin gets its own Access-Control-Allow-Origin on hits, never another’s`, async () => {
          const { cache } = createTestCache();
          const { app, calls } = appWith(express, cache, cors({ origin: true }), placement);
          const http = await client(app);
          const shop = 'https://shop.example';
          const evil = 'https://evil.example';

          const shopMiss = await http.get('/page').set('Origin', shop);
          const evilMiss = await http.get('/page').set('Origin', evil);
          const shopHit = await http.get('/page').set('Origin', shop);
          const evilHit = await http.get('/page').set('Origin', evil);
          const noOrigin = await http.get('/page');
          const noOriginHit = await http.get('/page');

          expect(shopMiss.headers['access-control-allow-origin']).to.equal(shop);
          expect(shopMiss.headers.vary).to.match(/\borigin\b/i);
          expect(evilMiss.headers['x-cache']).to.equal('MISS');
          expect(evilMiss.headers['access-control-allow-origin']).to.equal(evil);
          expect(jsonOf(evilMiss)).to.deep.equal({ page: 'shared', origin: evil, call: 2 });
          expect(shopHit.headers['x-cache']).to.equal('HIT');
          expect(shopHit.headers['access-control-allow-origin']).to.equal(shop);
          expect(jsonOf(shopHit)).to.deep.equal({ page: 'shared', origin: shop, call: 1 });
          expect(evilHit.headers['x-cache']).to.equal('HIT');
          expect(evilHit.headers['access-control-allow-origin']).to.equal(evil);
          expect(jsonOf(evilHit)).to.deep.equal({ page: 'shared', origin: evil, call: 2 });
          expect(noOrigin.headers['x-cache']).to.equal('MISS');
          expect(noOrigin.headers['access-control-allow-origin']).to.equal(undefined);
          expect(noOriginHit.headers['x-cache']).to.equal('HIT');
          expect(noOriginHit.headers['access-control-allow-origin']).to.equal(undefined);
          expect(jsonOf(noOriginHit)).to.deep.equal({ page: 'shared', origin: null, call: 3 });
          expect(calls()).to.equal(3);
        });
      }

      describe('method-override (X-HTTP-Method-Override) before the cache', () => {
        function overrideApp(cache: Cache): CountedApp {
          const app = express();
          let calls = 0;
          app.use(methodOverride('X-HTTP-Method-Override'));
          app.get('/thing', responseCache(cache), (req, res) => {
            calls++;
            res.json({
              method: req.method,
              originalMethod: (req as { originalMethod?: string }).originalMethod ?? req.method,
              call: calls,
            });
          });
          return { app, calls: () => calls };
        }

        it('neither caches nor answers from the cache a POST overridden to GET (X-Cache: BYPASS)', async () => {
          const { cache, store, requests } = createTestCache();
          const { app, calls } = overrideApp(cache);
          const http = await client(app);

          const first = await http.post('/thing').set('X-HTTP-Method-Override', 'GET');
          const second = await http.post('/thing').set('X-HTTP-Method-Override', 'GET');

          for (const [index, response] of [first, second].entries()) {
            expect(response.status).to.equal(200);
            expect(response.headers['x-cache']).to.equal('BYPASS');
            expect(jsonOf(response)).to.deep.equal({
              method: 'GET',
              originalMethod: 'POST',
              call: index + 1,
            });
          }
          expect(calls()).to.equal(2);
          expect(store.writes).to.deep.equal([]);
          expect(requests.map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal([
            'bypass/method',
            'bypass/method',
          ]);
        });

        it('does not answer an overridden POST, with or without a body, from the entry a GET stored', async () => {
          const { cache } = createTestCache();
          const { app, calls } = overrideApp(cache);
          const http = await client(app);

          const get = await http.get('/thing');
          const post = await http.post('/thing').set('X-HTTP-Method-Override', 'GET');
          const postWithBody = await http
            .post('/thing')
            .set('X-HTTP-Method-Override', 'GET')
            .type('form')
            .send({ transfer: 'all' });
          const getAgain = await http.get('/thing');

          expect(jsonOf(get)).to.deep.equal({ method: 'GET', originalMethod: 'GET', call: 1 });
          expect(post.headers['x-cache']).to.equal('BYPASS');
          expect(jsonOf(post)).to.deep.equal({ method: 'GET', originalMethod: 'POST', call: 2 });
          expect(postWithBody.headers['x-cache']).to.equal('BYPASS');
          expect(jsonOf(postWithBody)).to.deep.equal({ method: 'GET', originalMethod: 'POST', call: 3 });
          expect(getAgain.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(getAgain)).to.deep.equal({ method: 'GET', originalMethod: 'GET', call: 1 });
          expect(calls()).to.equal(3);
        });

        it('never serves a plain GET what an overridden POST produced', async () => {
          const { cache, store } = createTestCache();
          const { app, calls } = overrideApp(cache);
          const http = await client(app);

          await http.post('/thing').set('X-HTTP-Method-Override', 'GET');
          expect(store.writes).to.deep.equal([]);
          const get = await http.get('/thing');
          const getAgain = await http.get('/thing');

          expect(get.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(get)).to.deep.equal({ method: 'GET', originalMethod: 'GET', call: 2 });
          expect(getAgain.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(getAgain)).to.deep.equal({ method: 'GET', originalMethod: 'GET', call: 2 });
          expect(calls()).to.equal(2);
        });
      });
    });
  }
});

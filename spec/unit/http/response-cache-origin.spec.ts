import type { OutgoingHttpHeaders } from 'node:http';
import { expect } from 'chai';
import type { Express, Request, Response } from 'express';
import fc from 'fast-check';
import { responseCache } from '../../../src/index.js';
import { type ExpressModule, express4, express5 } from '../../support/app-factory.js';
import { type RawResponse, rawGet } from '../../support/raw-request.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

const MAJORS: [string, ExpressModule][] = [
  ['Express 4', express4],
  ['Express 5', express5],
];

/**
 * An app whose handler answers with the origin it sees, the way pages build absolute links: at
 * `/cached` behind the cache, and at `/direct` without it (what the handler gives that very request).
 */
function originEchoApp(express: ExpressModule, trustProxy: boolean): { app: Express; calls: () => number } {
  const { cache } = createTestCache();
  const app = express();
  app.set('trust proxy', trustProxy);
  let calls = 0;
  const echo = (req: Request, res: Response) => {
    // Express 5 has `req.host` (with the port); Express 4 only `req.hostname`.
    const host = (req as { host?: string }).host ?? req.hostname;
    // Handlers build links from any of these; `req.get('host')` is the raw Host header.
    res.json({
      link: `${req.protocol}://${host}/home`,
      hostname: req.hostname,
      hostHeader: req.get('host'),
    });
  };
  app.get('/cached', responseCache(cache), (req, res) => {
    calls++;
    echo(req, res);
  });
  app.get('/direct', echo);
  return { app, calls: () => calls };
}

const FORGED: OutgoingHttpHeaders = {
  host: 'shop.example',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  forwarded: 'for=1.2.3.4;host=evil.example;proto=https',
};

/** The `X-Cache` of a raw response and one field of its JSON body, to compare as a pair. */
function cacheAnd(response: RawResponse, field: 'link' | 'hostHeader') {
  return [response.headers['x-cache'], JSON.parse(response.body)[field]];
}

describe('responseCache and the request origin', () => {
  for (const [major, express] of MAJORS) {
    describe(major, () => {
      it('without trust proxy: forged forwarding headers fill no entry that another host reads', async () => {
        const { app, calls } = originEchoApp(express, false);
        const server = await served(app);
        const forged = await rawGet(server, '/cached', FORGED);
        // Express ignores the forwarding headers, so the handler built the genuine link.
        expect(JSON.parse(forged.body).link).to.equal('http://shop.example/home');
        const visitor = await rawGet(server, '/cached', { host: 'shop.example' });
        expect(cacheAnd(visitor, 'link')).to.deep.equal(['HIT', 'http://shop.example/home']);
        const otherHost = await rawGet(server, '/cached', { host: 'other.example' });
        expect(cacheAnd(otherHost, 'link')).to.deep.equal(['MISS', 'http://other.example/home']);
        expect(calls()).to.equal(2);
      });

      it('with trust proxy: a forged X-Forwarded-Host or -Proto fills only its own entry', async () => {
        const { app } = originEchoApp(express, true);
        const server = await served(app);
        const forged = await rawGet(server, '/cached', FORGED);
        expect(JSON.parse(forged.body).link).to.equal('https://evil.example/home');
        const visitor = await rawGet(server, '/cached', { host: 'shop.example' });
        expect(cacheAnd(visitor, 'link')).to.deep.equal(['MISS', 'http://shop.example/home']);
        const viaProxy = { host: 'internal:3000', 'x-forwarded-host': 'shop.example' };
        const proxied = await rawGet(server, '/cached', { ...viaProxy, 'x-forwarded-proto': 'https' });
        expect(cacheAnd(proxied, 'link')).to.deep.equal(['MISS', 'https://shop.example/home']);
        const proxiedAgain = await rawGet(server, '/cached', { ...viaProxy, 'x-forwarded-proto': 'https' });
        expect(proxiedAgain.headers['x-cache']).to.equal('HIT');
        // The handler may read the proxy's own Host as well (`req.get('host')`): it is in the key too.
        const plainHttp = await rawGet(server, '/cached', viaProxy);
        expect(cacheAnd(plainHttp, 'hostHeader')).to.deep.equal(['MISS', 'internal:3000']);
      });

      it('with trust proxy: a forged Host behind a genuine X-Forwarded-Host fills only its own entry', async () => {
        const { app } = originEchoApp(express, true);
        const server = await served(app);
        const forged = await rawGet(server, '/cached', {
          host: 'evil.example',
          'x-forwarded-host': 'shop.example',
        });
        expect(JSON.parse(forged.body).hostHeader).to.equal('evil.example');
        const visitor = await rawGet(server, '/cached', { host: 'shop.example' });
        expect(cacheAnd(visitor, 'hostHeader')).to.deep.equal(['MISS', 'shop.example']);
      });

      it('keys an absolute-form target or a #fragment exactly as sent, as the handler reads it', async () => {
        const { cache } = createTestCache();
        const app = express();
        // A page that links to itself with the URL it was asked for.
        app.get('/page', responseCache(cache), (req, res) =>
          res.send(`<a href="${req.originalUrl}">next</a>`),
        );
        const server = await served(app);
        for (const forged of ['http://evil.example/page?x=1', '/page?x=1#"><img/src/onerror=alert(1)>']) {
          const attack = await rawGet(server, forged, { host: 'shop.example' });
          expect(attack.body).to.include(forged);
          const visitor = await rawGet(server, '/page?x=1', { host: 'shop.example' });
          expect(visitor.body, forged).to.equal('<a href="/page?x=1">next</a>');
        }
      });

      it('keeps the port: a Host with another port never fills the entry of the plain host', async () => {
        const { app } = originEchoApp(express, false);
        const server = await served(app);
        await rawGet(server, '/cached', { host: 'shop.example:1337' });
        const visitor = await rawGet(server, '/cached', { host: 'shop.example' });
        expect(visitor.headers['x-cache']).to.equal('MISS');
        expect(JSON.parse(visitor.body).link).to.equal('http://shop.example/home');
      });

      it('answers every request as its handler would, whatever origin headers come (property)', async () => {
        const headerSets = fc.record(
          {
            host: fc.constantFrom(
              'shop.example',
              'SHOP.example',
              'shop.example:8080',
              'evil.example',
              'internal',
            ),
            'x-forwarded-host': fc.constantFrom('shop.example', 'evil.example', 'a.example, b.example'),
            'x-forwarded-proto': fc.constantFrom('http', 'https', 'https, http'),
            forwarded: fc.constantFrom('host=evil.example', 'proto=https;host=shop.example'),
          },
          { requiredKeys: ['host'] },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.boolean(),
            fc.array(headerSets, { minLength: 2, maxLength: 6 }),
            async (trust, sequence) => {
              const { app } = originEchoApp(express, trust);
              const server = await served(app);
              for (const headers of sequence) {
                const cached = await rawGet(server, '/cached', headers);
                const direct = await rawGet(server, '/direct', headers);
                expect(cached.body, JSON.stringify(headers)).to.equal(direct.body);
              }
            },
          ),
          { numRuns: 40 },
        );
      });
    });
  }
});

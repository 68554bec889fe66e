import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Request, Response } from 'express';
import request from 'supertest';
import { type ResponseCacheOptions, responseCache } from '../../../src/index.js';
import { type ExpressModule, express4, express5 } from '../../support/app-factory.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

const MAJORS: [string, ExpressModule][] = [
  ['Express 4', express4],
  ['Express 5', express5],
];

/** A route whose handler reflects what it was asked, as a page that echoes a search term does. */
function echoApp(express: ExpressModule, options: ResponseCacheOptions) {
  const { cache, store, requests } = createTestCache();
  const app = express();
  let runs = 0;
  app.get('/q', responseCache(cache, options), (req: Request, res: Response) => {
    runs++;
    res.json({ query: req.query, url: req.originalUrl });
  });
  return { app, store, requests, runs: () => runs };
}

describe('responseCache `query` option', () => {
  for (const [major, express] of MAJORS) {
    describe(major, () => {
      it('drops excluded tracking parameters from the key and from what the handler sees', async () => {
        const { app, runs } = echoApp(express, { query: { exclude: ['fbclid', /^utm_/] } });
        const server = await served(app);
        const tracked = await request(server).get('/q?id=1&utm_source=news&fbclid=abc&utm_content=x');
        expect(tracked.body).to.deep.equal({ query: { id: '1' }, url: '/q?id=1' });
        const plain = await request(server).get('/q?id=1');
        expect([plain.headers['x-cache'], runs()]).to.deep.equal(['HIT', 1]);
        expect(plain.body).to.deep.equal({ query: { id: '1' }, url: '/q?id=1' });
      });

      it('keeps only included parameters, so an unkeyed one can never be reflected into an entry', async () => {
        const { app, runs } = echoApp(express, { query: { include: ['page'] } });
        const server = await served(app);
        const attack = await request(server).get('/q?page=2&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
        expect(attack.text).not.to.include('script');
        const visitor = await request(server).get('/q?page=2');
        expect([visitor.headers['x-cache'], visitor.body.query, runs()]).to.deep.equal([
          'HIT',
          { page: '2' },
          1,
        ]);
        const withoutQuery = await request(server).get('/q?other=1');
        expect([withoutQuery.headers['x-cache'], withoutQuery.body.url]).to.deep.equal(['MISS', '/q']);
      });

      it('matches parameter names as the query parser decodes them', async () => {
        const { app } = echoApp(express, { query: { exclude: ['utm_source'] } });
        const server = await served(app);
        const encoded = await request(server).get('/q?id=1&utm%5Fsource=x&utm+source=y');
        // `utm_source` written with an escape is the same parameter; `utm source` is another one.
        expect(encoded.body.query).to.deep.equal({ id: '1', 'utm source': 'y' });
      });
    });
  }

  it('reuses a global RegExp safely, request after request', async () => {
    const { app, runs } = echoApp(express5, { query: { exclude: [/^utm_/g] } });
    const server = await served(app);
    for (let index = 0; index < 3; index++) {
      const response = await request(server).get('/q?utm_a=1&id=1');
      expect(response.body.query).to.deep.equal({ id: '1' });
    }
    expect(runs()).to.equal(1);
  });

  it('rejects a malformed `query` option at creation, naming it', () => {
    const { cache } = createTestCache();
    const malformed: unknown[] = [
      'utm_',
      { include: 'page' },
      { include: ['page'], exclude: ['utm'] },
      { only: ['page'] },
      { exclude: [''] },
      { exclude: [42] },
    ];
    for (const query of malformed) {
      expect(() => responseCache(cache, { query } as ResponseCacheOptions), JSON.stringify(query)).to.throw(
        TypeError,
        /`query/,
      );
    }
  });
});

/** Sends `GET path` with a chunked body (no Content-Length); resolves to the response's X-Cache. */
function chunkedGet(server: Server, path: string, body: string): Promise<unknown> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const sent = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        // Node frames a GET body only when told to (GET is not chunked by default).
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.headers['x-cache']));
      },
    );
    sent.on('error', reject);
    sent.write(body);
    sent.end();
  });
}

describe('responseCache and GET requests with a body', () => {
  for (const [major, express] of MAJORS) {
    it(`bypasses them, so a body the handler reads never fills an entry (${major})`, async () => {
      const { cache, store, requests } = createTestCache();
      const app = express();
      app.use(express.json());
      app.get('/search', responseCache(cache), (req: Request, res: Response) => {
        res.json({ results: `for ${JSON.stringify(req.body ?? null)}` });
      });
      const server = await served(app);
      const withBody = await request(server).get('/search').send({ q: 'private' });
      expect([withBody.headers['x-cache'], withBody.body.results]).to.deep.equal([
        'BYPASS',
        'for {"q":"private"}',
      ]);
      expect(await chunkedGet(server, '/search', '{"q":"x"}')).to.equal('BYPASS');
      const plain = await request(server).get('/search');
      expect(plain.headers['x-cache']).to.equal('MISS');
      expect(plain.body.results).not.to.include('private');
      expect(store.writes).to.have.length(1);
      expect(requests.map((event) => event.reason)).to.deep.equal(['body', 'body', undefined]);
    });
  }
});

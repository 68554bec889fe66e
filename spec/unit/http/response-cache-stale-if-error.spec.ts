import net from 'node:net';
import { expect } from 'chai';
import compression from 'compression';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

/** An app whose `/x` answers `body` while `failing` is off, and a server error (after `delayMs`) once it is on. */
function flakyApp(options: {
  compressionAfter?: boolean;
  errorBytes?: number;
  body?: Buffer;
  delayMs?: number;
}) {
  const { cache, store } = createTestCache({
    ttl: 1,
    staleTtl: 60,
    staleWhileRevalidate: false,
    loadTimeoutMs: 50,
  });
  const app = express();
  const state = { failing: false, errorsHandled: 0 };
  const body = options.body ?? Buffer.from('fresh');
  const route: RequestHandler[] = [
    responseCache(cache, { maxBodyBytes: body.length + 1024 }) as RequestHandler,
  ];
  if (options.compressionAfter) route.push(compression());
  app.get('/x', ...route, (_req: Request, res: Response, next: NextFunction) => {
    if (!state.failing) {
      res.type('application/octet-stream').send(body);
      return;
    }
    setTimeout(() => {
      if (options.errorBytes === undefined) next(new Error('database timed out'));
      else res.status(500).type('text/html').send('x'.repeat(options.errorBytes));
    }, options.delayMs ?? 0);
  });
  app.use((error: Error, _req: Request, _res: Response, next: NextFunction) => {
    state.errorsHandled++;
    next(error);
  });
  return { app, state, store };
}

describe('responseCache stale-if-error', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());

  it('answers a large server error from the stale entry with compression mounted after the cache', async () => {
    const { app, state, store } = flakyApp({ compressionAfter: true, errorBytes: 64 * 1024 });
    const server = await served(app);
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    await request(server).get('/x').set('Accept-Encoding', 'gzip');
    // Compression after the cache says Vary: Accept-Encoding: the variant, then its record.
    await eventually(() => store.writes.length === 2);
    clock.tick(1_500);
    state.failing = true;
    const answer = await request(server).get('/x').set('Accept-Encoding', 'gzip').timeout(10_000);
    expect([answer.status, answer.headers['x-cache']]).to.deep.equal([200, 'STALE']);
  });

  it('lets a handler fail after the stale entry answered without cutting the stale body short', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const { app, state, store } = flakyApp({ body, delayMs: 150 });
    const server = await served(app);
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    await request(server).get('/x');
    await eventually(() => store.writes.length === 1);
    clock.tick(1_500);
    state.failing = true;
    // A client that reads nothing until the handler's late error has been handled.
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.pause();
    socket.write(`GET /x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    await eventually(() => state.errorsHandled === 1, { maxTries: 2_000 });
    let received = 0;
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (received === 0) head = chunk.toString('latin1', 0, 700);
      received += chunk.length;
    });
    await new Promise((resolve) => socket.once('close', resolve).resume());
    expect(received, head).to.be.greaterThan(body.length);
  });
});

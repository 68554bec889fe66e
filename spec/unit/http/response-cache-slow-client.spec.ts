import net from 'node:net';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import type { ResponseCacheOptions } from '../../../src/index.js';
import { responseCache } from '../../../src/index.js';
import { eventually } from '../../support/eventually.js';
import { rawGet } from '../../support/raw-request.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

const BODY_BYTES = 32 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** A route that streams 32 MiB with backpressure, as `pipe` and `res.sendFile` do. */
async function bigBodyApp(
  cacheOptions: Parameters<typeof createTestCache>[0],
  routeOptions: ResponseCacheOptions,
) {
  const { cache, store, requests } = createTestCache(cacheOptions);
  const app = express();
  let runs = 0;
  app.get('/big', responseCache(cache, routeOptions), (_req, res) => {
    runs++;
    res.type('text/plain');
    Readable.from(
      (function* chunks() {
        for (let sent = 0; sent < BODY_BYTES; sent += CHUNK.length) yield CHUNK;
      })(),
    ).pipe(res);
  });
  return { server: await served(app), store, requests, runs: () => runs };
}

/** A client that asks for `path` and never reads a byte of the answer. */
async function stalledClient(port: number, path: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: shop.example\r\n\r\n`);
  return socket;
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

describe('responseCache and a client that stops reading', function () {
  this.timeout(30_000);

  it('lets no such client hold others: a body over maxBodyBytes releases the waiters at once', async () => {
    const app = await bigBodyApp({}, {});
    const stalled = await stalledClient(portOf(app.server), '/big');
    try {
      await eventually(() => app.runs() === 1);
      const other = await rawGet(app.server, '/big', { host: 'shop.example' });
      expect(other.body.length).to.equal(BODY_BYTES);
      expect(other.headers['x-cache']).to.equal('MISS');
      // The second client was answered by its own handler run while the first still reads nothing.
      expect(app.runs()).to.equal(2);
      expect(stalled.destroyed).to.equal(false);
      expect(app.store.writes).to.have.length(0);
    } finally {
      stalled.destroy();
    }
  });

  it('releases waiters after loadWaitMs when the stalled response could be stored', async () => {
    const app = await bigBodyApp({ loadWaitMs: 200 }, { maxBodyBytes: 64 * 1024 * 1024 });
    const stalled = await stalledClient(portOf(app.server), '/big');
    try {
      await eventually(() => app.runs() === 1);
      const other = await rawGet(app.server, '/big', { host: 'shop.example' });
      expect(other.body.length).to.equal(BODY_BYTES);
      expect(app.runs()).to.equal(2);
      expect(stalled.destroyed).to.equal(false);
      // The client that read its response stored it; the next one is a hit, with the handler idle.
      await eventually(() => app.store.writes.length === 1);
      const third = await rawGet(app.server, '/big', { host: 'shop.example' });
      expect([third.headers['x-cache'], third.body.length, app.runs()]).to.deep.equal(['HIT', BODY_BYTES, 2]);
    } finally {
      stalled.destroy();
    }
  });
});

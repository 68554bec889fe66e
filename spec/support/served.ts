import http, { type RequestListener, type Server } from 'node:http';

const servers = new Map<RequestListener, Promise<Server>>();

/**
 * One server on a free 127.0.0.1 port for `app`, the same for every call within a test, to hand to
 * supertest: it then sends every request to one port, as clients of a real deployment do. (Given the
 * app itself, supertest listens on a new port for each request, and keys hold the `Host` port.) The
 * servers close after each test.
 */
export function served(app: RequestListener): Promise<Server> {
  let server = servers.get(app);
  if (server === undefined) {
    server = new Promise((resolve, reject) => {
      const listening = http.createServer(app);
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => resolve(listening));
    });
    servers.set(app, server);
  }
  return server;
}

/** Closes every server {@link served} started; a mocha root hook calls it after each test. */
export async function closeServed(): Promise<void> {
  const started = [...servers.values()];
  servers.clear();
  await Promise.all(
    started.map(async (pending) => {
      const server = await pending.catch(() => undefined);
      if (server === undefined) return;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }),
  );
}

/** The origin clients of `server` send (`http://127.0.0.1:<port>`), for `responseCacheKey`. */
export function originOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
  return `http://127.0.0.1:${address.port}`;
}

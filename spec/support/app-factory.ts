import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import compression from 'compression';
import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import {
  addCacheTags,
  type Cache,
  invalidateOnSuccess,
  type ResponseCacheOptions,
  responseCache,
  responseCacheKey,
} from '../../src/index.js';

/** An Express module (`express()` and `express.Router()`); the middleware supports majors 4 and 5. */
export type ExpressModule = typeof express;

/** Express 5, the version this package develops against. */
export const express5: ExpressModule = express;

/** Express 4, installed under the `express4` alias; the fixtures use only the API both majors share. */
export const express4: ExpressModule = createRequire(import.meta.url)('express4') as ExpressModule;

/** Names of the cached fixture routes, all mounted under `/api`. */
export type FixtureRoute =
  | 'json'
  | 'text'
  | 'item'
  | 'binary'
  | 'streamed'
  | 'file'
  | 'slow'
  | 'set-cookie'
  | 'private'
  | 'no-store'
  | 'error'
  | 'server-error'
  | 'large'
  | 'vary'
  | 'vary-star'
  | 'max-age'
  | 'write-head'
  | 'echo'
  | 'me';

/** Options of {@link createFixtureApp}. */
export interface FixtureAppOptions {
  cache: Cache;
  /** Default {@link express5}. */
  express?: ExpressModule;
  /** Options of every cached route. */
  cacheOptions?: ResponseCacheOptions;
  /** Options of one route, merged over `cacheOptions`. */
  routeOptions?: Partial<Record<FixtureRoute, ResponseCacheOptions>>;
  /** Where `compression()` sits: `'before'` the cache (app-wide) or `'after'` it (per route). Default: none. */
  compression?: 'before' | 'after';
  /** Size of the `/api/large` body, in bytes. Default 2 MiB (over the default `maxBodyBytes`). */
  largeBodyBytes?: number;
}

/** A gate the `/api/slow` handler waits at while it is closed. */
export class Gate {
  #opened: Promise<void> = Promise.resolve();
  #open: () => void = () => {};

  close(): void {
    this.#opened = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  open(): void {
    this.#open();
  }

  wait(): Promise<void> {
    return this.#opened;
  }
}

/** An app with intent-revealing routes, the counters of their handler runs and the errors they raised. */
export interface FixtureApp {
  app: Express;
  /** How many times the handler of `route` ran. */
  calls(route: FixtureRoute | 'update' | 'remove'): number;
  /** Errors that reached the app's error handler. */
  errors: unknown[];
  /** `/api/slow` waits here; it starts open. */
  slowGate: Gate;
  /** The text `/api/text` sends (7.6 kB, compressible). */
  textBody: string;
  /** The bytes `/api/binary` sends: every byte value, four times. */
  binaryBody: Buffer;
  /** The bytes `/api/streamed` sends, as the client must receive them. */
  streamedBody: Buffer;
  /** This file, which `/api/file` sends. */
  filePath: string;
}

/** A compressible body well over compression's 1 KiB threshold. */
const TEXT_BODY = 'Cache-aside keeps the hot path short. '.repeat(200);
// A RegExp route: the wildcard syntax differs between Express 4 and 5.
const ECHO_PATH = /^\/echo(?:\/.*)?$/;
const BINARY_BODY = Buffer.from(Array.from({ length: 1024 }, (_, index) => index % 256));
const STREAMED_CHUNKS: readonly [string | Uint8Array, BufferEncoding | undefined][] = [
  ['héllo ', undefined],
  ['776f726c64', 'hex'],
  [Uint8Array.from([0x20, 0xff, 0x00, 0x20]), undefined],
  ['bGF0aW4x', 'base64'],
  ['¡fin!', 'latin1'],
];
const STREAMED_BODY = Buffer.concat(
  STREAMED_CHUNKS.map(([chunk, encoding]) =>
    typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk),
  ),
);

/** Builds the fixture app: cached GET routes under `/api`, mutation routes, and an error handler. */
export function createFixtureApp(options: FixtureAppOptions): FixtureApp {
  const { cache } = options;
  const expressModule = options.express ?? express5;
  const app = expressModule();
  const counts = new Map<string, number>();
  const errors: unknown[] = [];
  const slowGate = new Gate();
  const largeBodyBytes = options.largeBodyBytes ?? 2 * 1024 * 1024;
  const filePath = fileURLToPath(import.meta.url);
  const count = (route: string) => {
    const call = (counts.get(route) ?? 0) + 1;
    counts.set(route, call);
    return call;
  };
  if (options.compression === 'before') app.use(compression());
  const router = expressModule.Router();
  const cached = (
    route: FixtureRoute,
    path: string | RegExp,
    handler: (req: Request, res: Response, next: NextFunction, call: number) => unknown,
  ) => {
    const routeOptions = { ...options.cacheOptions, ...options.routeOptions?.[route] };
    const middleware: RequestHandler[] = [responseCache(cache, routeOptions)];
    if (options.compression === 'after') middleware.push(compression());
    router.get(path, ...middleware, (req, res, next) => handler(req, res, next, count(route)));
  };

  cached('json', '/json', (_req, res, _next, call) => res.json({ message: 'hello', call }));
  cached('text', '/text', (_req, res) => res.type('text/plain').send(TEXT_BODY));
  cached('item', '/items/:id', (req, res, _next, call) => {
    addCacheTags(res, 'items');
    res.json({ id: req.params.id, query: queryOf(req), call });
  });
  cached('binary', '/binary', (_req, res) => res.type('application/octet-stream').send(BINARY_BODY));
  cached('streamed', '/streamed', (_req, res) => {
    res.type('text/plain');
    for (const [chunk, encoding] of STREAMED_CHUNKS.slice(0, -1)) {
      if (encoding === undefined) res.write(chunk);
      else res.write(chunk, encoding);
    }
    const [last, lastEncoding] = STREAMED_CHUNKS.at(-1) as [string, BufferEncoding];
    res.end(last, lastEncoding);
  });
  cached('file', '/file', (_req, res, next) => res.sendFile(filePath, (error) => error && next(error)));
  cached('slow', '/slow', async (req, res, _next, call) => {
    await slowGate.wait();
    const delayMs = Number(req.query.ms ?? 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, 5000)));
    res.json({ slow: true, call });
  });
  cached('set-cookie', '/set-cookie', (_req, res, _next, call) => {
    res.cookie('session', `s${call}`).json({ call });
  });
  cached('private', '/private', (_req, res, _next, call) => {
    res.set('Cache-Control', 'private, max-age=60').json({ call });
  });
  cached('no-store', '/no-store', (_req, res, _next, call) => {
    res.set('Cache-Control', 'no-store').json({ call });
  });
  cached('error', '/error', (_req, _res, next, call) => next(new Error(`handler failed (call ${call})`)));
  cached('server-error', '/server-error', (_req, res, _next, call) => {
    res.status(500).json({ error: 'unavailable', call });
  });
  cached('large', '/large', (_req, res) => {
    res.type('application/octet-stream');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = largeBodyBytes;
    const writeMore = () => {
      while (left > 0) {
        const size = Math.min(left, chunk.length);
        left -= size;
        if (!res.write(chunk.subarray(0, size))) {
          res.once('drain', writeMore);
          return;
        }
      }
      res.end();
    };
    writeMore();
  });
  cached('vary', '/vary', (req, res, _next, call) => {
    res.vary('Accept-Language');
    res.json({ language: req.headers['accept-language'] ?? 'none', call });
  });
  cached('vary-star', '/vary-star', (_req, res, _next, call) => res.set('Vary', '*').json({ call }));
  cached('max-age', '/max-age', (req, res, _next, call) => {
    res.set('Cache-Control', String(req.query.cc ?? 'public, max-age=60')).json({ call });
  });
  cached('write-head', '/write-head', (_req, res, _next, call) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Handler-Call': String(call) });
    res.end(`written with writeHead (call ${call})`);
  });
  cached('echo', ECHO_PATH, (req, res, _next, call) => {
    res.vary('Accept-Language');
    res.json({
      url: req.originalUrl,
      query: queryOf(req),
      language: req.headers['accept-language'] ?? null,
      tenant: req.headers['x-tenant'] ?? null,
      call,
    });
  });
  cached('me', '/me', (req, res, _next, call) => {
    res.json({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null, call });
  });

  router.put(
    '/items/:id',
    invalidateOnSuccess(cache, { tags: (req) => [`item:${String(req.params.id)}`] }),
    (req, res) => {
      count('update');
      if (req.query.fail !== undefined) res.status(422).json({ error: 'invalid item' });
      else res.status(200).json({ updated: req.params.id });
    },
  );
  router.delete('/items/:id', async (req, res) => {
    count('remove');
    await cache.invalidate(responseCacheKey({ url: `/api/items/${String(req.params.id)}`, origin: req }));
    res.sendStatus(204);
  });

  app.use('/api', router);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(error);
    res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
  });
  return {
    app,
    calls: (route) => counts.get(route) ?? 0,
    errors,
    slowGate,
    textBody: TEXT_BODY,
    binaryBody: BINARY_BODY,
    streamedBody: STREAMED_BODY,
    filePath,
  };
}

/** The query parameters in request order, as pairs (the same in Express 4 and 5). */
function queryOf(req: Request): [string, string][] {
  const queryAt = req.originalUrl.indexOf('?');
  return queryAt === -1 ? [] : [...new URLSearchParams(req.originalUrl.slice(queryAt + 1))];
}

import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Cache } from '../../../../src/engine/cache.js';
import { responseCache } from '../../../../src/http/response-cache.js';
import type { ResponseCacheOptions } from '../../../../src/http/response-cache-options.js';

/** An app whose `GET /items/:id` goes through `responseCache`, listening on 127.0.0.1. */
export interface CachedApp {
  readonly baseUrl: string;
  /** How many times the handler ran (counted when a run starts). */
  readonly handlerRuns: () => number;
  /** How many handler runs have answered (or passed their error on). */
  readonly handlerRunsEnded: () => number;
  /** The data source behind the handler: make it fail, or slow, at will. */
  readonly source: DataSource;
  /** Errors that reached the app's error handler. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** The data source behind the handler. */
interface DataSource {
  /** While true, the handler passes an error to `next`. */
  failing: boolean;
  /** How long the source takes to answer, in milliseconds. */
  delayMs: number;
  /**
   * Holds every answer of the source (after its delay) until the returned function is called: a
   * source as slow as the spec needs, whatever the machine's speed.
   */
  hold(): () => void;
}

/**
 * `GET /items/:id` answers `{ id, version }` (version = handler run) after `source.delayMs` (and
 * while `source.hold()` holds it); while `source.failing`, the handler passes an error to `next`,
 * and the app's error handler answers 500.
 */
export async function startCachedApp(
  cache: Cache,
  { delayMs = 5, routeOptions = {} }: { delayMs?: number; routeOptions?: ResponseCacheOptions } = {},
): Promise<CachedApp> {
  let runs = 0;
  let runsEnded = 0;
  let held: Promise<void> = Promise.resolve();
  const source: DataSource = {
    failing: false,
    delayMs,
    hold: () => {
      let release!: () => void;
      held = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
  };
  const errors: unknown[] = [];
  const app = express();
  app.get('/items/:id', responseCache(cache, routeOptions), async (req, res, next) => {
    const version = ++runs;
    await sleep(source.delayMs);
    await held;
    runsEnded++;
    if (source.failing) next(new Error(`data source down (run ${version})`));
    else res.json({ id: req.params.id, version });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(error);
    res.status(500).json({ error: error instanceof Error ? error.message : String(error) });
  });
  const server = await listen(app);
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    handlerRuns: () => runs,
    handlerRunsEnded: () => runsEnded,
    source,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

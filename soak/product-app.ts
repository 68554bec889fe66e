import express, { type ErrorRequestHandler, type Express, type Response } from 'express';
import { type Cache, responseCache, responseCacheKey } from '../src/index.js';
import { type DataSourceClient, DataSourceError, type Product } from './data-source-client.js';
import { FAILURE_HEADER, REDIS_READ_HEADER } from './instance-protocol.js';
import { CACHE_PREFIX, engineKeyOf, PUBLIC_HOST, tagsOf } from './product-keys.js';
import { RedisReadWatch } from './redis-read-watch.js';

/** What the product app needs besides its cache. */
export interface ProductAppOptions {
  dataSource: DataSourceClient;
  /** False only to prove the oracle: PUTs are then acknowledged without invalidating. */
  invalidate: boolean;
  /** Told about every failure that is not the data source's, to be counted. */
  onAppError: (error: unknown) => void;
}

/**
 * The products API of the bug report, cached two ways: `/engine/products/:id` through
 * `cache.lookup` and `/http/products/:id` through `responseCache`. Both entries carry the tag
 * `product:<id>`, so one `invalidateTags` after a write reaches both.
 */
export function createProductApp(cache: Cache, options: ProductAppOptions): Express {
  const { dataSource } = options;
  const app = express();
  const reads = new RedisReadWatch(cache);
  // Whether Redis could be read for a GET is known only inside this process: the error handler says it.
  app.get('/engine/products/:id', (req, res, next) => {
    watchReads(res, reads, CACHE_PREFIX + engineKeyOf(String(req.params.id)));
    next();
  });
  app.get('/http/products/:id', (req, res, next) => {
    const url = `http://${PUBLIC_HOST}/http/products/${String(req.params.id)}`;
    watchReads(res, reads, CACHE_PREFIX + responseCacheKey(url));
    next();
  });

  app.get('/engine/products/:id', async (req, res) => {
    const { id } = req.params;
    const outcome = await cache.lookup<Product>(engineKeyOf(id), () => dataSource.read(id), {
      tags: tagsOf(id),
    });
    // The engine has no HTTP header of its own: say what the lookup found the way responseCache does.
    res.set('X-Cache', outcome.result.toUpperCase()).json(outcome.value);
  });

  app.get(
    '/http/products/:id',
    responseCache(cache, { tags: (req) => tagsOf(String(req.params.id)) }),
    async (req, res) => {
      res.json(await dataSource.read(req.params.id));
    },
  );

  app.put('/products/:id', async (req, res) => {
    const { id } = req.params;
    const written = await dataSource.write(id);
    if (!options.invalidate) {
      res.json({ acknowledged: true, version: written.version });
      return;
    }
    // Wall-clock times, not a monotonic clock: the driver compares them with when its own subscriber
    // heard the announcement, in another process on the same machine.
    const invalidationStartedAtMs = Date.now();
    try {
      await cache.invalidateTags(tagsOf(id));
    } catch (error) {
      // Written but not invalidated: the client must not take it as done, and the oracle does not.
      res.status(202).json({
        acknowledged: false,
        version: written.version,
        invalidationStartedAtMs,
        error: String(error),
      });
      return;
    }
    const acknowledgedAtMs = Date.now();
    res.json({ acknowledged: true, version: written.version, invalidationStartedAtMs, acknowledgedAtMs });
  });

  const handleError: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof DataSourceError) {
      const readFailed = (res.locals as WatchedLocals).stopReadWatch?.() ?? false;
      // While invalidations wait to be replayed the cache reads nothing from Redis, by design.
      const queued = cache.stats().queuedInvalidations > 0;
      res
        .status(503)
        .set(FAILURE_HEADER, 'data-source')
        .set(REDIS_READ_HEADER, readFailed ? 'failed' : queued ? 'queued' : 'ok')
        .json({ error: error.message });
      return;
    }
    options.onAppError(error);
    res
      .status(500)
      .set(FAILURE_HEADER, 'app')
      .json({ error: String(error) });
  };
  app.use(handleError);
  return app;
}

interface WatchedLocals {
  stopReadWatch?: () => boolean;
}

function watchReads(res: Response, reads: RedisReadWatch, entryKey: string): void {
  const stop = reads.watch(entryKey);
  let stopped: boolean | undefined;
  const stopOnce = () => {
    stopped ??= stop();
    return stopped;
  };
  (res.locals as WatchedLocals).stopReadWatch = stopOnce;
  res.once('close', stopOnce);
}

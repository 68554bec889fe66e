import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Cache } from '../engine/cache.js';
import { CacheError, type CacheErrorCode, CacheOptionError } from '../errors.js';
import { targetKeyPattern } from '../http/build-cache-key.js';
import { describeValue, unknownOptionMessage } from '../option-names.js';
import {
  ENTRY_PARAMETERS,
  entryTargetOf,
  InvalidParameter,
  PAGE_PARAMETERS,
  PATTERN_PARAMETERS,
  pageOf,
  purgePatternOf,
  readQuery,
} from './admin-query.js';
import { entryKeysToPurge, entryLabel, reportEntry } from './entry-report.js';
import type { PurgeRequest } from './purge-events.js';

/** Options of {@link cacheAdmin}. */
export interface CacheAdminOptions {
  /**
   * Runs before every request to the router, whatever its path: the request goes on only when this
   * returns (or resolves to) `true`; anything else answers 403. Required: the router inspects and
   * empties the cache, so it must never be public. A throw (or rejection) goes to `next(err)`.
   */
  authorize: (req: Request) => boolean | undefined | PromiseLike<boolean | undefined>;
  /** Who made a purge, for its log line and `purge` event. Default: `req.ip`. */
  actor?: (req: Request) => string | undefined;
  /**
   * The origin (`https://shop.example`) of an `/entry` call whose `url` is a path and that names no
   * `origin`. Default: the origin of the admin request itself, as `responseCache` would key it.
   */
  origin?: string;
}

/** The part of a `Cache` the admin router uses. */
export type CacheAdminEngine = Pick<
  Cache,
  'inspector' | 'invalidate' | 'invalidateTags' | 'invalidatePattern' | 'stats' | 'events' | 'name'
>;

const OPTION_NAMES = ['authorize', 'actor', 'origin'];

/**
 * An Express router to inspect and purge the responses `responseCache` stored in `cache`, to mount
 * behind authentication: `app.use('/_cache', cacheAdmin(cache, { authorize: (req) => … }))`. It
 * answers JSON: `GET /entry`, `DELETE /entry`, `GET /tags/:tag`, `DELETE /tags/:tag`,
 * `DELETE /entries`, `GET /stats` (see the README). Purges go through the cache's own invalidations
 * (every instance drops its copies) and are announced as `purge` events, which the cache's logger
 * and metrics record. Invalid parameters answer 400, a store that cannot be reached 503.
 */
export function cacheAdmin(cache: CacheAdminEngine, options: CacheAdminOptions): Router {
  const { authorize, actor, origin } = resolveOptions(options);
  const router = express.Router();
  router.use((req, res, next) => {
    // Never stored by a cache in front, this one included: it answers about the cache itself.
    res.setHeader('Cache-Control', 'no-store');
    Promise.resolve()
      .then(() => authorize(req))
      .then((allowed) => {
        if (allowed === true) next();
        else res.status(403).json({ error: 'not authorized to use the cache admin router' });
      }, next);
  });

  const purge = async (req: Request, request: Omit<PurgeRequest, 'actor'>, run: () => Promise<number>) => {
    const who = { ...request, actor: actorOf(req, actor) };
    try {
      const purged = await run();
      cache.events.emit('purge', { ...who, purged });
      return purged;
    } catch (error) {
      if (error instanceof CacheError) cache.events.emit('purge-failed', { ...who, error });
      throw error;
    }
  };

  router.get(
    '/entry',
    answer(async (req) => {
      const target = entryTargetOf(readQuery(req, ENTRY_PARAMETERS), origin ?? req);
      return reportEntry(cache.inspector, target);
    }),
  );
  router.delete(
    '/entry',
    answer(async (req) => {
      const target = entryTargetOf(readQuery(req, ENTRY_PARAMETERS), origin ?? req);
      const deleted: string[] = [];
      let complete = true;
      const purged = await purge(req, { kind: 'entry', target: entryLabel(target) }, async () => {
        const found = await entryKeysToPurge(cache.inspector, target);
        complete = found.complete;
        const existed = await Promise.all(found.keys.map((key) => cache.invalidate(key)));
        deleted.push(...found.keys.filter((_, index) => existed[index]));
        return deleted.length;
      });
      // Variants the bounded search did not reach stay cached: say so, so the operator purges by tag.
      return { purged, keys: deleted, complete };
    }),
  );
  router.get(
    '/tags/:tag',
    answer(async (req) => {
      const { limit, cursor } = pageOf(readQuery(req, PAGE_PARAMETERS));
      const tag = tagOf(req);
      const page = await cache.inspector.tagMembers(
        tag,
        cursor === undefined ? { limit } : { limit, cursor },
      );
      return { tag, keys: page.keys, cursor: page.cursor ?? null, done: page.cursor === undefined };
    }),
  );
  router.delete(
    '/tags/:tag',
    answer(async (req) => {
      readQuery(req, []);
      const tag = tagOf(req);
      return { purged: await purge(req, { kind: 'tag', target: tag }, () => cache.invalidateTags([tag])) };
    }),
  );
  router.delete(
    '/entries',
    answer(async (req) => {
      const pattern = purgePatternOf(readQuery(req, PATTERN_PARAMETERS));
      const run = () => cache.invalidatePattern(targetKeyPattern(pattern));
      return { purged: await purge(req, { kind: 'pattern', target: pattern }, run) };
    }),
  );
  router.get(
    '/stats',
    answer(async (req) => {
      readQuery(req, []);
      return { cache: cache.name, stats: cache.stats(), memoryTier: cache.inspector.memoryTier() ?? null };
    }),
  );
  return router;
}

function resolveOptions(options: CacheAdminOptions): CacheAdminOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError('cacheAdmin: options must be an object with an `authorize` function');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name))
      throw new CacheOptionError(`cacheAdmin: ${unknownOptionMessage(name, OPTION_NAMES)}`);
  }
  if (typeof options.authorize !== 'function') {
    throw new CacheOptionError(
      `cacheAdmin: \`authorize\` must be a function that returns true for requests allowed to inspect and purge the cache, got ${describeValue(options.authorize)}`,
    );
  }
  if (options.actor !== undefined && typeof options.actor !== 'function') {
    throw new CacheOptionError(
      `cacheAdmin: \`actor\` must be a function, got ${describeValue(options.actor)}`,
    );
  }
  if (
    options.origin !== undefined &&
    (typeof options.origin !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]+$/.test(options.origin))
  ) {
    throw new CacheOptionError(
      `cacheAdmin: \`origin\` must be a scheme and host such as 'https://shop.example', got ${describeValue(options.origin)}`,
    );
  }
  return options;
}

function actorOf(req: Request, actor: CacheAdminOptions['actor']): string {
  const who = actor === undefined ? req.ip : actor(req);
  return typeof who === 'string' && who.length > 0 ? who : 'unknown';
}

/** Express decodes route parameters; a tag with `/` in it comes as `%2F`. */
function tagOf(req: Request): string {
  return String(req.params.tag);
}

/**
 * A handler answering JSON with what `handle` resolves to. Bad input answers 400 and a store that
 * cannot be reached 503, both as `{ error }` with no stack; anything else goes to `next(err)`
 * (Express 4 does not catch a rejected handler by itself).
 */
function answer(handle: (req: Request) => Promise<object>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    handle(req).then(
      (body) => {
        res.json(body);
      },
      (error: unknown) => {
        const failure = describeFailure(error);
        if (failure === undefined) next(error);
        else res.status(failure.status).json(failure.body);
      },
    );
  };
}

function describeFailure(error: unknown): { status: number; body: object } | undefined {
  if (error instanceof InvalidParameter) {
    return { status: 400, body: { error: error.message, parameter: error.parameter } };
  }
  if (error instanceof CacheOptionError) return { status: 400, body: { error: error.message } };
  if (!(error instanceof CacheError)) return undefined;
  if (error.code === 'E_UNSUPPORTED')
    return { status: 501, body: { error: error.message, code: error.code } };
  if (!UNAVAILABLE.has(error.code)) return undefined;
  // The cause (a Redis address, a server message) stays in the cache's own logs.
  return {
    status: 503,
    body: { error: 'the cache store could not be reached: try again', code: error.code },
  };
}

const UNAVAILABLE: ReadonlySet<CacheErrorCode> = new Set([
  'E_STORE_FAILED',
  'E_STORE_TIMEOUT',
  'E_CIRCUIT_OPEN',
  'E_INVALIDATION_FAILED',
]);

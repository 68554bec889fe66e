import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { EntryOptions } from '../engine/cache.js';
import { CacheOptionError } from '../errors.js';
import type { CachedEntry } from './cached-response.js';
import { RequestExchange } from './request-exchange.js';
import {
  type ParamsDictionary,
  type ResponseCacheOptions,
  resolveResponseCacheOptions,
} from './response-cache-options.js';
import { responseSerializer } from './response-serializer.js';
import type { ResponseCacheEngine, RouteCaching } from './route-caching.js';
import { routeNamesOf, UNMATCHED_ROUTE } from './route-names.js';

/**
 * Express middleware (Express 4 and 5) that answers GET and HEAD requests from `cache`, cache-aside:
 * a hit replays the stored status, headers and body; a miss runs the handler once per key (concurrent
 * requests share that run) and stores its response while it streams to the client, when the HTTP
 * rules allow. Sets `X-Cache` (HIT, MISS, STALE, BYPASS) on every response and emits one `request`
 * event per request on `cache.events`. Throws a `TypeError` naming the bad option at creation.
 */
export function responseCache<P = ParamsDictionary>(
  cache: ResponseCacheEngine,
  options: ResponseCacheOptions<P> = {},
): RouteMiddleware {
  if (isRequest(cache)) {
    // Express passes what the middleware throws to the error handler, so every request shows this.
    throw new CacheOptionError(
      'responseCache was mounted without being called: write app.use(responseCache(cache, options)), not app.use(responseCache)',
    );
  }
  if (!isEngine(cache)) {
    throw new CacheOptionError('responseCache: `cache` must be a cache from createCache()');
  }
  // The route's own parameter type matters to the caller only; inside, requests are plain requests.
  const config = resolveResponseCacheOptions(options as ResponseCacheOptions);
  const routeStaleTtl = config.staleTtlSeconds;
  const entryOptions: EntryOptions<CachedEntry | undefined> = {
    ttl: ttlOfEntry,
    age: (entry) => entry?.ageSeconds,
    // The response's own word on stale use (RFC 9111, RFC 5861) wins over the route's.
    staleTtl: (entry) => entry?.staleTtlSeconds ?? routeStaleTtl,
    tags: tagsOfEntry,
    serializer: responseSerializer,
  };
  const reportedRoutes = new Set<string>();
  // Route names are bounded per cache (see `RouteNames`); this map is bounded per middleware as well.
  const optionsByRoute = new Map<string, EntryOptions<CachedEntry | undefined>>();
  const route: RouteCaching = {
    cache,
    config,
    routeNames: routeNamesOf(cache),
    passedOn: requestsPassedOnBy(cache),
    entryOptions,
    entryOptionsOf: (pattern) => {
      let options = optionsByRoute.get(pattern);
      if (options === undefined) {
        options = { ...entryOptions, route: pattern, group: pattern };
        if (optionsByRoute.size < MAX_REMEMBERED_ROUTES) optionsByRoute.set(pattern, options);
      }
      return options;
    },
    reportKeyError: (pattern, option, error) => {
      // Route names are bounded (see `RouteNames`), so this set is too.
      if (reportedRoutes.has(pattern)) return;
      reportedRoutes.add(pattern);
      cache.events.emit('key-error', { route: pattern, option, error });
    },
  };
  let nestingReported = false;
  const middleware: RequestHandler = (req, res, next) => {
    // A middleware of the same cache passed this request on (this one is mounted inside it): this one
    // passes it on too, or the load it would join is the very one waiting for the handler.
    if (route.passedOn.has(req)) {
      if (!nestingReported) {
        nestingReported = true;
        cache.events.emit('nested-middleware', { route: route.routeNames.of(req) ?? UNMATCHED_ROUTE });
      }
      next();
      return;
    }
    new RequestExchange(route, req, res, next).start();
  };
  return middleware as RouteMiddleware;
}

// The requests the middlewares of each cache passed on toward their handlers: one request goes
// through one middleware per cache.
const passedOnByCache = new WeakMap<object, WeakSet<object>>();

function requestsPassedOnBy(cache: object): WeakSet<object> {
  let passedOn = passedOnByCache.get(cache);
  if (passedOn === undefined) {
    passedOn = new WeakSet();
    passedOnByCache.set(cache, passedOn);
  }
  return passedOn;
}

/** Route names whose entry options one middleware keeps (see `entryOptionsOf`). */
const MAX_REMEMBERED_ROUTES = 256;

function ttlOfEntry(entry: CachedEntry | undefined): number | undefined {
  return entry?.ttlSeconds;
}

function tagsOfEntry(entry: CachedEntry | undefined): readonly string[] {
  return entry?.tags ?? [];
}

function isRequest(value: unknown): boolean {
  const candidate = value as { method?: unknown; headers?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.method === 'string' &&
    typeof candidate.headers === 'object'
  );
}

function isEngine(cache: unknown): cache is ResponseCacheEngine {
  const candidate = cache as Partial<ResponseCacheEngine> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.lookup === 'function' &&
    typeof candidate.set === 'function' &&
    typeof candidate.events?.emit === 'function'
  );
}

/**
 * An Express middleware that fits any route. It is generic so that, placed before a handler, it
 * leaves the handler's `req.params` typed from the route path (`'/items/:id'` → `{ id: string }`);
 * a plain `RequestHandler` would widen them to every possible parameter.
 */
export type RouteMiddleware = <P>(req: Request<P>, res: Response, next: NextFunction) => void;

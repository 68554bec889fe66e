import type { Request, RequestHandler, Response } from 'express';
import type { Cache } from '../engine/cache.js';
import { CacheOptionError } from '../errors.js';
import type { RouteMiddleware } from './response-cache.js';
import type { ParamsDictionary } from './response-cache-options.js';

/** A list, or a function of the request and the response that returns one. */
type ListOption<P = ParamsDictionary> =
  | readonly string[]
  | ((req: Request<P>, res: Response) => readonly string[]);

/** Options of {@link invalidateOnSuccess}; `P` is the route's parameters, inferred from its path. */
export interface InvalidateOnSuccessOptions<P = ParamsDictionary> {
  /** Tags to invalidate (`cache.invalidateTags`). Default: none. */
  tags?: ListOption<P>;
  /** Keys to invalidate (`cache.invalidate`), usually from `responseCacheKey(...)`. Default: none. */
  keys?: ListOption<P>;
  /**
   * Called when the invalidation failed after its retries (with `queueOnFailure`, only when it could
   * not be queued), before the response goes out (its headers are still unsent unless the handler
   * streamed). Each failed attempt is already reported as a
   * `failure` event (logs, metrics). Default: none; the response is sent as the handler made it.
   */
  onError?: (error: unknown, req: Request<P>, res: Response) => void;
  /**
   * An invalidation that could not reach Redis and was queued for replay (`invalidationQueue`) counts
   * as done: the response goes out and `onError` is not called. One that could not be queued still
   * calls `onError`. Default false: a queued invalidation is an error too.
   */
  queueOnFailure?: boolean;
}

/**
 * Middleware for mutation routes: when the handler ends a 2xx response, it invalidates the given tags
 * and keys, and only then lets the response go out, so a client that reads right after its write
 * never gets the old cached response. Other statuses are sent untouched and invalidate nothing.
 */
export function invalidateOnSuccess<P = ParamsDictionary>(
  cache: Pick<Cache, 'invalidate' | 'invalidateTags'>,
  routeOptions: InvalidateOnSuccessOptions<P>,
): RouteMiddleware {
  if (typeof routeOptions !== 'object' || routeOptions === null) {
    throw new CacheOptionError('invalidateOnSuccess: options must be an object with `tags` or `keys`');
  }
  // The route's own parameter type matters to the caller only; inside, requests are plain requests.
  const options = routeOptions as InvalidateOnSuccessOptions;
  const tags = listOption(options.tags, 'tags');
  const keys = listOption(options.keys, 'keys');
  if (tags === undefined && keys === undefined) {
    throw new CacheOptionError('invalidateOnSuccess: give `tags`, `keys` or both');
  }
  const { onError, queueOnFailure = false } = options;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new CacheOptionError('invalidateOnSuccess: `onError` must be a function');
  }
  if (typeof queueOnFailure !== 'boolean') {
    throw new CacheOptionError('invalidateOnSuccess: `queueOnFailure` must be a boolean');
  }
  const callOptions = { queueOnFailure };
  const middleware: RequestHandler = (req, res, next) => {
    const originalEnd = res.end;
    let ended = false;
    res.end = function end(this: Response, ...args: unknown[]) {
      if (ended || res.statusCode < 200 || res.statusCode > 299)
        return Reflect.apply(originalEnd, this, args);
      ended = true;
      const invalidations: Promise<unknown>[] = [];
      const tagList = resolveList(tags, req, res);
      if (tagList.length > 0) invalidations.push(cache.invalidateTags(tagList, callOptions));
      for (const key of resolveList(keys, req, res)) invalidations.push(cache.invalidate(key, callOptions));
      const send = () => Reflect.apply(originalEnd, this, args);
      Promise.all(invalidations)
        .then(send, (error: unknown) => {
          try {
            onError?.(error, req, res);
          } finally {
            send();
          }
        })
        // Only a broken socket makes `end` throw; there is nobody left to answer.
        .catch((error: unknown) => res.destroy(error instanceof Error ? error : undefined));
      return this;
    } as Response['end'];
    next();
  };
  return middleware as RouteMiddleware;
}

function listOption(value: ListOption | undefined, name: string): ListOption | undefined {
  if (value === undefined || typeof value === 'function') return value;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new CacheOptionError(`invalidateOnSuccess: \`${name}\` must be non-empty strings or a function`);
  }
  return value;
}

function resolveList(option: ListOption | undefined, req: Request, res: Response): readonly string[] {
  if (option === undefined) return [];
  return typeof option === 'function' ? option(req, res) : option;
}

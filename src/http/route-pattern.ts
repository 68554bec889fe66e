import type { Request } from 'express';

/** The `route` of requests that matched no Express route (a 404, or a hit before any route ran). */
export const UNMATCHED_ROUTE = '<unmatched>';

/**
 * The Express route pattern that handles `req` (`req.baseUrl + req.route.path`, e.g.
 * `/api/items/:id`), never the raw URL, so metrics labels stay bounded; `undefined` before routing.
 */
export function routePatternOf(req: Request): string | undefined {
  const route = req.route as { path?: unknown } | undefined;
  if (route?.path === undefined) return undefined;
  return req.baseUrl + (typeof route.path === 'string' ? route.path : String(route.path));
}

import type { Request } from 'express';

/** Where a route's mount path would be in its name, past the bounds below: its pattern stays. */
export const ANY_MOUNT = '<mount>';
/** A route name read from an entry, past the bounds below. */
export const OTHER_ROUTE = '<other>';
/** Route names one cache reports apart, all its routes and mount paths together. */
const MAX_ROUTE_NAMES = 256;
/** Longest mount path (`req.baseUrl`, parameters named) reported as it is. */
const MAX_MOUNT_PATH_LENGTH = 64;
/** Longest route name read from an entry that is reported as it is. */
const MAX_STORED_NAME_LENGTH = 256;

/** `req.params`: a wildcard's value is a list of segments in Express 5. */
type Params = Record<string, string | string[]>;

/**
 * The route names one cache reports, in metric labels, logs and trace spans: its routes' mount paths
 * (`req.baseUrl`) and patterns (`/api/items/:id`), never the raw URL.
 *
 * `req.baseUrl` is the path a router matched, so a mount path with parameters
 * (`app.use('/tenants/:tenant', router)`) puts the client's values in it, and Express does not give
 * its pattern. When the router sees the parameters (`mergeParams`), the segments that hold them are
 * named after them (`/tenants/:tenant/items/:id`). Otherwise each value makes a name of its own, up to
 * the bounds: a mount path over 64 characters, and every new name once the cache has reported 256,
 * give `<mount>` and the route's pattern (`<mount>/items/:id`), which the application's code bounds.
 */
export class RouteNames {
  readonly #reported = new Set<string>();

  /** The name of the route that handles `req`; `undefined` before routing. */
  of(req: Request): string | undefined {
    const route = req.route as { path?: unknown } | undefined;
    if (route?.path === undefined) return undefined;
    const path = typeof route.path === 'string' ? route.path : String(route.path);
    const mountPath = req.baseUrl === '' ? '' : namedMountPath(req.baseUrl, req.params, path);
    if (mountPath.length > MAX_MOUNT_PATH_LENGTH) return ANY_MOUNT + path;
    const name = mountPath + path;
    return this.#admitted(name) ? name : ANY_MOUNT + path;
  }

  /**
   * A route name as another instance or release stored it with an entry, within the same bounds: one
   * too long, or new once 256 are reported, is `<other>`.
   */
  stored(name: string): string {
    return name.length <= MAX_STORED_NAME_LENGTH && this.#admitted(name) ? name : OTHER_ROUTE;
  }

  #admitted(name: string): boolean {
    if (this.#reported.has(name)) return true;
    if (this.#reported.size >= MAX_ROUTE_NAMES) return false;
    this.#reported.add(name);
    return true;
  }
}

// One set of names per cache, shared by all its middlewares, however many are made.
const namesByCache = new WeakMap<object, RouteNames>();

/** The route names of `cache`. */
export function routeNamesOf(cache: object): RouteNames {
  let names = namesByCache.get(cache);
  if (names === undefined) {
    names = new RouteNames();
    namesByCache.set(cache, names);
  }
  return names;
}

/** `baseUrl` with the segments that hold the values of the mount's parameters named after them. */
function namedMountPath(baseUrl: string, params: Params, path: string): string {
  let segments: string[] | undefined;
  let routeParams: Set<string> | undefined;
  for (const [name, value] of Object.entries(params)) {
    // A wildcard's list of segments stays as it is; the route's own parameters are in its pattern.
    if (typeof value !== 'string' || value === '') continue;
    routeParams ??= new Set(Array.from(path.matchAll(/:(\w+)/g), (match) => match[1] as string));
    if (routeParams.has(name)) continue;
    segments ??= baseUrl.split('/');
    for (let index = 1; index < segments.length; index++) {
      if (decoded(segments[index] as string) === value) segments[index] = `:${name}`;
    }
  }
  return segments === undefined ? baseUrl : segments.join('/');
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

import type { Request } from 'express';

/** Where a route's mount path would be in its name, past the bounds below: its pattern stays. */
export const ANY_MOUNT = '<mount>';
/** A route name read from an entry, past the bounds below. */
export const OTHER_ROUTE = '<other>';
/** The `route` of requests that matched no Express route (a 404, or a hit before any route ran). */
export const UNMATCHED_ROUTE = '<unmatched>';
/** Names with a mount path one cache reports apart, all its routes together. */
const MAX_MOUNTED_NAMES = 256;
/** Longest mount path (`req.baseUrl`, parameters named) reported as it is. */
const MAX_MOUNT_PATH_LENGTH = 64;
/** Longest route name read from an entry that is reported as it is. */
const MAX_STORED_NAME_LENGTH = 1024;

/** `req.params`: a wildcard's value is a list of segments in Express 5. */
type Params = Record<string, string | string[]>;

/**
 * The route names one cache reports, in metric labels, logs and trace spans: its routes' mount paths
 * (`req.baseUrl`) and patterns (`/api/items/:id`), never the raw URL.
 *
 * A route's pattern comes from the application's code. `req.baseUrl` is the path a router matched,
 * so a mount path with parameters (`app.use('/tenants/:tenant', router)`) puts the client's values in
 * it, and Express does not give its pattern. When the router sees the parameters (`mergeParams`), the
 * segments that hold them are named after them (`/tenants/:tenant/items/:id`); other segments are
 * lower-cased unless routing is case-sensitive, as Express matches them. Otherwise each value makes a
 * name of its own, up to the bounds: a mount path over 64 characters, and every new name with a mount
 * path once the cache has reported 256, give `<mount>` and the route's pattern (`<mount>/items/:id`).
 */
export class RouteNames {
  /** Names without a mount path, and `<mount>` ones: the application's code bounds them. */
  readonly #patterns = new Set<string>([UNMATCHED_ROUTE]);
  /** Names with a mount path, which clients choose: at most `MAX_MOUNTED_NAMES`. */
  readonly #mounted = new Set<string>();

  /** The name of the route that handles `req`; `undefined` before routing. */
  of(req: Request): string | undefined {
    const route = req.route as { path?: unknown } | undefined;
    if (route?.path === undefined) return undefined;
    const path = typeof route.path === 'string' ? route.path : String(route.path);
    if (req.baseUrl === '') return this.#pattern(path);
    const mountPath = namedMountPath(req, path);
    if (mountPath.length > MAX_MOUNT_PATH_LENGTH) return this.#pattern(ANY_MOUNT + path);
    const name = mountPath + path;
    return this.#admitted(name) ? name : this.#pattern(ANY_MOUNT + path);
  }

  /**
   * A route name as this or another instance stored it with an entry (a hit of a middleware that runs
   * before routing has no other), within the same bounds: a name with a client's mount path that is new
   * once 256 are reported, or any name over 1,024 characters, is `<other>`.
   */
  stored(name: string): string {
    if (this.#patterns.has(name) || this.#mounted.has(name)) return name;
    if (name.length > MAX_STORED_NAME_LENGTH) return OTHER_ROUTE;
    // A pattern alone behind `<mount>` holds nothing a client chose.
    if (name.startsWith(ANY_MOUNT)) return name;
    return this.#admitted(name) ? name : OTHER_ROUTE;
  }

  #pattern(name: string): string {
    this.#patterns.add(name);
    return name;
  }

  #admitted(name: string): boolean {
    if (this.#mounted.has(name)) return true;
    if (this.#mounted.size >= MAX_MOUNTED_NAMES) return false;
    this.#mounted.add(name);
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

/**
 * `req.baseUrl` with the segments that hold the values of the mount's parameters named after them, and
 * the others lower-cased unless routing is case-sensitive (`/API` and `/api` reach the same router).
 */
function namedMountPath(req: Request, path: string): string {
  const caseSensitive = req.app?.get('case sensitive routing') === true;
  const mountParams = mountParamsOf(req.params as Params, path);
  // Without the mount's parameters in view (no `mergeParams`), the path is only cased.
  if (mountParams.length === 0) return caseSensitive ? req.baseUrl : req.baseUrl.toLowerCase();
  const segments = req.baseUrl.split('/');
  for (let index = 1; index < segments.length; index++) {
    const segment = segments[index] as string;
    const value = decoded(segment);
    const param = mountParams.find(([, paramValue]) => paramValue === value);
    segments[index] = param !== undefined ? `:${param[0]}` : caseSensitive ? segment : segment.toLowerCase();
  }
  return segments.join('/');
}

/**
 * The parameters of `params` that the mount path holds: not the route's own (in its pattern), and
 * not a wildcard's list of segments.
 */
function mountParamsOf(params: Params, path: string): [string, string][] {
  const found: [string, string][] = [];
  let routeParams: Set<string> | undefined;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string' || value === '') continue;
    routeParams ??= new Set(Array.from(path.matchAll(/:(\w+)/g), (match) => match[1] as string));
    if (!routeParams.has(name)) found.push([name, value]);
  }
  return found;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

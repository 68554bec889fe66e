import type { Request } from 'express';

/** Longest segment of `req.baseUrl` reported as it is: a longer one is `*`. */
const MAX_SEGMENT_LENGTH = 64;
/** Most segments of `req.baseUrl` reported; those after them are one `**`. */
const MAX_SEGMENTS = 16;

/** What is known of the mount paths through which one route was reached (see {@link routeNameOf}). */
interface MountPattern {
  /** The last `req.baseUrl` seen, for the common case: the same mount path every time. */
  lastBaseUrl: string;
  segments: string[];
  name: string;
}

/** `req.params`: a wildcard's value is a list of segments in Express 5. */
type Params = Record<string, string | string[]>;

// By Express `Route` object: one per `router.get(path, …)` in the application's code.
const mountPatterns = new WeakMap<object, MountPattern>();

/**
 * The name of the Express route that handles `req`, in metric labels, logs and trace spans: the mount
 * path (`req.baseUrl`) and the route's pattern (`/api/items/:id`), never the raw URL; `undefined`
 * before routing.
 *
 * `req.baseUrl` is the path a router matched, so a mount path with parameters
 * (`app.use('/tenants/:tenant', router)`) puts the client's values in it. Its segments are named as
 * the parameters they hold when the router sees them (`mergeParams`: `/tenants/:tenant/items/:id`).
 * Otherwise the segments that differ between two requests of the same route become `*` (the mount
 * path `/tenants/*`). The first request of a route names it with its own values; a segment longer
 * than 64 characters, or past the 16th, is never named as it is. A route thus has two names under a
 * mount path with one parameter, and a few dozen at the very most, whatever clients send (each
 * change names fewer segments).
 */
export function routeNameOf(req: Request): string | undefined {
  const route = req.route as { path?: unknown } | undefined;
  if (route?.path === undefined) return undefined;
  const path = typeof route.path === 'string' ? route.path : String(route.path);
  const baseUrl = req.baseUrl;
  if (baseUrl === '') return path;
  return mountNameOf(route, baseUrl, req.params, path) + path;
}

/**
 * A route name as another instance or release stored it with an entry: segments past the bounds above
 * are cut the same way, so that what Redis holds cannot make a label of any length either.
 */
export function boundedRouteName(name: string): string {
  return boundedSegments(name.split('/')).join('/');
}

function mountNameOf(route: object, baseUrl: string, params: Params, path: string): string {
  const known = mountPatterns.get(route);
  if (known?.lastBaseUrl === baseUrl) return known.name;
  const seen = namedSegments(baseUrl, params, path);
  const segments = known === undefined ? seen : mergedSegments(known.segments, seen);
  const name =
    known !== undefined && sameSegments(segments, known.segments) ? known.name : segments.join('/');
  mountPatterns.set(route, { lastBaseUrl: baseUrl, segments, name });
  return name;
}

/** The segments of `baseUrl`, bounded, with the values of the mount's parameters named as them. */
function namedSegments(baseUrl: string, params: Params, path: string): string[] {
  const segments = boundedSegments(baseUrl.split('/'));
  const routeParams = new Set(Array.from(path.matchAll(/:(\w+)/g), (match) => match[1]));
  for (const [name, value] of Object.entries(params)) {
    // A wildcard's value is a list of segments (Express 5): what it matched stays as it is, or `*`.
    if (routeParams.has(name) || typeof value !== 'string' || value === '') continue;
    for (let index = 1; index < segments.length; index++) {
      if (decoded(segments[index] as string) === value) segments[index] = `:${name}`;
    }
  }
  return segments;
}

function boundedSegments(segments: string[]): string[] {
  const kept = segments.length > MAX_SEGMENTS + 1 ? [...segments.slice(0, MAX_SEGMENTS + 1), '**'] : segments;
  return kept.map((segment) => (segment.length > MAX_SEGMENT_LENGTH ? '*' : segment));
}

/**
 * The pattern of two mount paths of one route: `*` where their segments differ; when their lengths
 * differ (a wildcard mount), what they share, then `**`. Merging only ever names fewer segments.
 */
function mergedSegments(known: readonly string[], seen: readonly string[]): string[] {
  const open = known.at(-1) === '**' || seen.at(-1) === '**' || known.length !== seen.length;
  const shared = open ? Math.min(known.length, seen.length) - 1 : known.length;
  const merged = known.slice(0, shared).map((segment, index) => (segment === seen[index] ? segment : '*'));
  return open ? [...merged, '**'] : merged;
}

function sameSegments(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((segment, index) => segment === right[index]);
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

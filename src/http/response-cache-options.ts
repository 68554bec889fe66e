import type { Request, Response } from 'express';
import { CacheOptionError } from '../errors.js';
import { describeValue, unknownOptionMessage } from '../option-names.js';
import type { CredentialPolicy } from './request-policy.js';
import type { ParameterMatcher, QueryFilter } from './request-target.js';
import type { StoragePolicy } from './response-policy.js';
import type { SurrogateHeaders } from './surrogate-keys.js';

/** Route parameters as Express types them by default (`req.params` of a plain `Request`). */
export type ParamsDictionary = Request['params'];

/**
 * Options of `responseCache`, per route. All are optional. `P` is the route's parameters, inferred
 * from the route path, so that the functions below see `req.params` as the handler does.
 */
export interface ResponseCacheOptions<P = ParamsDictionary> {
  /**
   * Freshness of a stored response, in seconds, or a function of the request and the finished
   * response that returns it (`undefined`: use the default). 0 means "do not store".
   * Default: the cache's `ttl`.
   */
  ttl?: number | ((req: Request<P>, res: Response) => number | undefined);
  /**
   * Take the freshness from the handler's `Cache-Control` response header, `s-maxage` first, else
   * `max-age`; `ttl` applies to responses without either. Default `false`.
   */
  ttlFromCacheControl?: boolean;
  /** How long a response stays servable after it went stale, in seconds. Default: the cache's `staleTtl`. */
  staleTtl?: number;
  /**
   * Tags for `cache.invalidateTags`, or a function of the request and the finished response that
   * returns them. Handlers may add more with `addCacheTags(res, ...)`. Default: none.
   */
  tags?: readonly string[] | ((req: Request<P>, res: Response) => readonly string[]);
  /** Response statuses that may be stored (never 206 or 304). Default `[200]`. */
  statuses?: readonly number[];
  /**
   * Largest body stored, in bytes. A larger body is streamed to the client as usual and not stored;
   * it is never buffered beyond this. Default 1 MiB (1,048,576).
   */
  maxBodyBytes?: number;
  /**
   * Replaces the path-and-query part of the key (the origin, method group, `varyHeaders`, `Vary` and
   * `credentialKey` parts still apply). It must return a non-empty string that includes everything
   * the response depends on; if it throws or returns anything else, the request bypasses the cache
   * (reason `key-error`, one warning per route). Default: the path with the query parameters sorted by
   * name.
   */
  key?: (req: Request<P>) => string;
  /**
   * Request headers whose values are always part of the key, named up front so that a hit stays
   * one round trip even when the response says `Vary` on them. Listing `authorization` or `cookie`
   * lets requests carrying them use the cache, keyed on a hash of their value. Default: none.
   */
  varyHeaders?: readonly string[];
  /**
   * Lets requests that carry `Authorization` or `Cookie` use the cache, one entry set per user: it
   * returns who the response is for (a user id from the session: a non-empty string or a finite
   * number), which enters the key; `undefined` or `null` sends the request past the cache, and so does
   * a function that throws or returns anything else (reason `key-error`, one warning per route).
   * Default: such requests bypass the cache.
   */
  credentialKey?: (req: Request<P>) => string | number | null | undefined;
  /**
   * Bounds which query parameters enter the key, by decoded name: `{ include: ['page', 'sort'] }` keeps
   * only those, `{ exclude: ['fbclid', /^utm_/] }` drops those (names, or patterns a name must match).
   * Parameters left out are removed from the request before the handler runs, so it never sees what
   * the key does not hold. Default: every parameter is in the key.
   */
  query?: QueryFilter;
  /**
   * What becomes of the `Surrogate-Key` (space-separated, as Fastly reads it) and `Cache-Tag`
   * (comma-separated, as Cloudflare reads it) headers a handler sets: their tags always become tags of
   * the stored response; `'strip'` removes the headers from what the client receives (and from what
   * is stored), `'keep'` leaves them on, stored and replayed, for a CDN in front that reads them too.
   * Default `'strip'`.
   */
  surrogateHeaders?: SurrogateHeaders;
  /**
   * Whether every response says what the cache did in a `Cache-Status` header (RFC 9211), beside
   * `X-Cache`. Default `true`.
   */
  cacheStatus?: boolean;
  /**
   * Whether a stale entry with a validator is refreshed by asking the handler if it changed
   * (`If-None-Match` / `If-Modified-Since`; a 304 renews it). Turn it off for a handler whose `ETag`
   * or `Last-Modified` does not cover its whole body. Default `true`.
   */
  revalidate?: boolean;
  /**
   * Whether this route uses the cache: `false`, or a function of the request returning `false`, sends
   * requests past it (`X-Cache: BYPASS`, reason `disabled`), nothing read or stored, as
   * `cache.setMode('off')` does for every route. A function that throws or returns anything but a
   * boolean also sends the request past the cache (reason `key-error`, one warning per route).
   * Default `true`.
   */
  enabled?: boolean | ((req: Request<P>) => boolean);
}

/** {@link ResponseCacheOptions} after validation, with defaults applied. */
export interface ResolvedResponseCacheConfig {
  ttl: number | ((req: Request, res: Response) => number | undefined) | undefined;
  ttlFromCacheControl: boolean;
  staleTtlSeconds: number | undefined;
  tags: readonly string[] | ((req: Request, res: Response) => readonly string[]) | undefined;
  surrogateHeaders: SurrogateHeaders;
  storage: StoragePolicy;
  key: ((req: Request) => string) | undefined;
  /** Lower-case, de-duplicated, sorted. */
  varyHeaders: readonly string[];
  credentialKey: ((req: Request) => string | number | null | undefined) | undefined;
  credentials: CredentialPolicy;
  query: QueryFilter | undefined;
  cacheStatus: boolean;
  revalidate: boolean;
  enabled: boolean | ((req: Request) => boolean);
}

/** Default largest stored body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'ttl',
  'ttlFromCacheControl',
  'staleTtl',
  'tags',
  'surrogateHeaders',
  'statuses',
  'maxBodyBytes',
  'key',
  'varyHeaders',
  'credentialKey',
  'query',
  'cacheStatus',
  'revalidate',
  'enabled',
]);
// RFC 9110 §5.1: a field name is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Validates `options` once, at middleware creation; throws a `TypeError` naming the bad option. */
export function resolveResponseCacheOptions(options: ResponseCacheOptions): ResolvedResponseCacheConfig {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) fail(unknownOptionMessage(name, [...OPTION_NAMES]));
  }
  const varyHeaders = headerNames(options.varyHeaders);
  const credentialKey = optionalFunction(options.credentialKey, 'credentialKey');
  return {
    ttl: numberOrFunction(options.ttl, 'ttl'),
    ttlFromCacheControl: optionalBoolean(options.ttlFromCacheControl, 'ttlFromCacheControl'),
    staleTtlSeconds:
      options.staleTtl === undefined ? undefined : nonNegative(options.staleTtl, 'staleTtl', false),
    tags: tagsOption(options.tags),
    surrogateHeaders: surrogateHeaders(options.surrogateHeaders),
    storage: {
      statuses: statuses(options.statuses),
      maxBodyBytes:
        options.maxBodyBytes === undefined
          ? DEFAULT_MAX_BODY_BYTES
          : nonNegative(options.maxBodyBytes, 'maxBodyBytes', true),
    },
    key: optionalFunction(options.key, 'key'),
    varyHeaders,
    credentialKey,
    credentials: {
      keysAuthorization: credentialKey !== undefined || varyHeaders.includes('authorization'),
      keysCookie: credentialKey !== undefined || varyHeaders.includes('cookie'),
    },
    query: queryFilter(options.query),
    cacheStatus:
      options.cacheStatus === undefined ? true : optionalBoolean(options.cacheStatus, 'cacheStatus'),
    revalidate: options.revalidate === undefined ? true : optionalBoolean(options.revalidate, 'revalidate'),
    enabled: enabledOption(options.enabled),
  };
}

function enabledOption(value: ResponseCacheOptions['enabled']): ResolvedResponseCacheConfig['enabled'] {
  if (value === undefined) return true;
  if (typeof value !== 'boolean' && typeof value !== 'function') {
    fail(
      `\`enabled\` must be a boolean or a function of the request returning one, got ${describeValue(value)}`,
    );
  }
  return value;
}

function fail(message: string): never {
  throw new CacheOptionError(`responseCache: ${message}`);
}

function nonNegative(value: unknown, name: string, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    fail(`\`${name}\` must be a ${integer ? 'whole ' : ''}number of at least 0, got ${describeValue(value)}`);
  }
  return value;
}

function numberOrFunction<F>(value: number | F | undefined, name: string): number | F | undefined {
  if (value === undefined || typeof value === 'function') return value;
  return nonNegative(value, name, false);
}

function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`\`${name}\` must be a function`);
  return value;
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(`\`${name}\` must be a boolean`);
  return value === true;
}

function tagsOption(value: ResponseCacheOptions['tags']): ResolvedResponseCacheConfig['tags'] {
  if (value === undefined || typeof value === 'function') return value;
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === 'string' && tag.length > 0)) {
    fail('`tags` must be an array of non-empty strings or a function returning one');
  }
  return [...value];
}

function surrogateHeaders(value: unknown): SurrogateHeaders {
  if (value === undefined) return 'strip';
  if (value !== 'strip' && value !== 'keep') {
    fail(`\`surrogateHeaders\` must be 'strip' or 'keep', got ${describeValue(value)}`);
  }
  return value;
}

function statuses(value: readonly number[] | undefined): ReadonlySet<number> {
  if (value === undefined) return new Set([200]);
  if (!Array.isArray(value) || value.length === 0)
    fail('`statuses` must be a non-empty array of status codes');
  for (const status of value) {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      fail(`\`statuses\` must hold status codes from 200 to 599, got ${String(status)}`);
    }
    if (status === 206 || status === 304) {
      fail(`\`statuses\` cannot include ${status}: it has no complete body to replay`);
    }
  }
  return new Set(value);
}

function queryFilter(value: unknown): QueryFilter | undefined {
  if (value === undefined) return undefined;
  const usage = '`query` must be { include: [...] } or { exclude: [...] } with parameter names or RegExps';
  if (typeof value !== 'object' || value === null) fail(usage);
  const keys = Object.keys(value);
  const side = keys[0];
  if (keys.length !== 1 || (side !== 'include' && side !== 'exclude')) fail(usage);
  const matchers = (value as Record<string, unknown>)[side];
  if (!Array.isArray(matchers)) fail(`${usage}; \`${side}\` is not an array`);
  const resolved = matchers.map((matcher: unknown): ParameterMatcher => {
    if (typeof matcher === 'string' && matcher.length > 0) return matcher;
    // A global or sticky RegExp remembers where it last matched; a name test must not.
    if (matcher instanceof RegExp) return new RegExp(matcher.source, matcher.flags.replace(/[gy]/g, ''));
    return fail(`\`query.${side}\` must hold non-empty names or RegExps, got ${JSON.stringify(matcher)}`);
  });
  return side === 'include' ? { include: resolved } : { exclude: resolved };
}

function headerNames(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('`varyHeaders` must be an array of header names');
  for (const name of value) {
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      fail(`\`varyHeaders\` must hold header names, got ${JSON.stringify(name)}`);
    }
  }
  return [...new Set(value.map((name) => name.toLowerCase()))].sort();
}

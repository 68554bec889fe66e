import type { IncomingMessage } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { Request } from 'express';
import parseUrl from 'parseurl';
import { expressSetting } from './express-setting.js';

/** Which query parameters enter the key (and reach the handler), by decoded name. */
export type QueryFilter =
  | { readonly include: readonly ParameterMatcher[] }
  | { readonly exclude: readonly ParameterMatcher[] };

/** A parameter name (`'page'`), or a pattern its name must match (`/^utm_/`). */
export type ParameterMatcher = string | RegExp;

/** Express compiles its `query parser` setting into this function (both majors call it `query parser fn`). */
type QueryParser = (query: string) => unknown;

/**
 * The path and query of `req` as the key holds them: the path of `req.originalUrl`, and the query text
 * Express itself parses into `req.query` (split by `parseurl`, as Express does).
 * The query is sorted by parameter name when, and
 * only when, the app's own query parser reads the sorted query as the `req.query` the handler gets: two
 * requests then share a target only if their handlers see the same `req.path` and `req.query`, whatever
 * the parser makes of encoded names, `+`, brackets, repeated names or a parameter limit.
 */
export function requestTarget(req: Request): string {
  // An absolute-form target (`GET http://host/path`) or one with a `#fragment`: Express routes on the
  // path, yet the handler can read the rest in `req.originalUrl` (and echo it into a link). No browser
  // sends either, so such a request is keyed on its target exactly as sent.
  const url = req.originalUrl;
  if (isUnusualTarget(url)) return url;
  // The path as sent: with no fragment and no absolute form, the text before `?` is what parseurl
  // takes as the path, and reading it costs no parse.
  const path = pathOf(url);
  const query = parseUrl(req)?.query;
  if (typeof query !== 'string' || query === '') return path;
  const sorted = sortQuery(query);
  return sorted !== query && readsAs(req, sorted) ? `${path}?${sorted}` : `${path}?${query}`;
}

/**
 * A URL's target as {@link requestTarget} would key it, for a request whose query the app's parser
 * reads the same sorted as unsorted (true of every ordinary query).
 */
export function normalizeTarget(url: string): string {
  if (isUnusualTarget(url)) return url;
  const path = pathOf(url);
  const query = parseUrl({ url } as IncomingMessage)?.query;
  return typeof query !== 'string' || query === '' ? path : `${path}?${sortQuery(query)}`;
}

function isUnusualTarget(url: string): boolean {
  return !url.startsWith('/') || url.includes('#');
}

/** Stable: parameters with the same name keep their order, as every parser reads them in order. */
function sortQuery(query: string): string {
  if (query.indexOf('&') === -1) return query;
  const parameters = query.split('&').map((text) => ({ text, name: parameterName(text) }));
  parameters.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  return parameters.map((parameter) => parameter.text).join('&');
}

function readsAs(req: Request, sortedQuery: string): boolean {
  const parse = expressSetting(req, 'query parser fn');
  if (typeof parse !== 'function') return false;
  return isDeepStrictEqual((parse as QueryParser)(sortedQuery), req.query);
}

/**
 * Removes the parameters `filter` leaves out from the request itself (its URL, and `req.query`), so the
 * handler can never answer differently for a parameter the key does not hold.
 */
export function applyQueryFilter(req: Request, filter: QueryFilter): void {
  const query = parseUrl(req)?.query;
  if (typeof query !== 'string' || query === '') return;
  const kept = filterQuery(query, filter);
  if (kept !== query) withQuery(req, kept);
}

function filterQuery(query: string, filter: QueryFilter): string {
  const keep = 'include' in filter;
  const matchers = keep ? filter.include : filter.exclude;
  return query
    .split('&')
    .filter((parameter) => parameter !== '' && matchesAny(parameterName(parameter), matchers) === keep)
    .join('&');
}

function matchesAny(name: string, matchers: readonly ParameterMatcher[]): boolean {
  return matchers.some((matcher) => (typeof matcher === 'string' ? matcher === name : matcher.test(name)));
}

/**
 * The name a parameter is known by: decoded as query parsers decode it (`+` is a space), and for
 * bracketed names (`a[b]`, `a[]`) the part before the bracket, which `qs` nests the rest under.
 */
function parameterName(parameter: string): string {
  const equalsAt = parameter.indexOf('=');
  const raw = (equalsAt === -1 ? parameter : parameter.slice(0, equalsAt)).replaceAll('+', ' ');
  let name = raw;
  try {
    name = decodeURIComponent(raw);
  } catch {
    // Malformed escapes: parsers keep the text as it is, and so does the name.
  }
  const bracketAt = name.indexOf('[');
  return bracketAt > 0 ? name.slice(0, bracketAt) : name;
}

/** Gives `req` the filtered query, in its URL and (Express 4, which parses once) in `req.query`. */
function withQuery(req: Request, query: string): void {
  const suffix = query === '' ? '' : `?${query}`;
  req.url = pathOf(req.url) + suffix;
  req.originalUrl = pathOf(req.originalUrl) + suffix;
  if (Object.hasOwn(req, 'query')) {
    const parse = expressSetting(req, 'query parser fn');
    (req as { query: unknown }).query = typeof parse === 'function' ? (parse as QueryParser)(query) : {};
  }
}

/** The URL up to its query or fragment, as sent. */
function pathOf(url: string): string {
  const queryAt = url.indexOf('?');
  const fragmentAt = url.indexOf('#');
  const endAt = queryAt === -1 ? fragmentAt : fragmentAt === -1 ? queryAt : Math.min(queryAt, fragmentAt);
  return endAt === -1 ? url : url.slice(0, endAt);
}

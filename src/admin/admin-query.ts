import type { Request } from 'express';
import parseUrl from 'parseurl';
import { MAX_PAGE_SIZE } from '../engine/cache-inspector.js';
import type { ResponseCacheKeyTarget } from '../http/response-cache-key.js';

/** A query parameter that is missing, repeated, unknown or malformed: the admin router answers 400. */
export class InvalidParameter extends Error {
  /** The parameter at fault, as the query names it. */
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.name = 'InvalidParameter';
    this.parameter = parameter;
  }
}

/** Which cached GET an `/entry` call is about. */
export interface EntryTarget {
  /** The key parts without request headers (`url` or `key`, `origin`, `credential`). */
  keyTarget: Omit<ResponseCacheKeyTarget, 'headers'>;
  /** The request headers given with `header=name: value`, by lower-case name; `undefined` when none. */
  headers: Record<string, string> | undefined;
}

/** The query parameters each call takes: anything else is refused, so that a typo is not silently ignored. */
export const ENTRY_PARAMETERS = ['url', 'key', 'origin', 'header', 'credential'] as const;
export const PAGE_PARAMETERS = ['limit', 'cursor'] as const;
export const PATTERN_PARAMETERS = ['pattern', 'confirm'] as const;

const DEFAULT_PAGE_SIZE = 100;
// RFC 9110 §5.1: a field name is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The query of `req`, read from its URL rather than `req.query`, so that the app's `query parser`
 * setting (Express 4 and 5 differ, an app may turn it off) changes nothing. Refuses parameters not in
 * `allowed`, and a second value for any but `header`.
 */
export function readQuery(req: Request, allowed: readonly string[]): URLSearchParams {
  const query = parseUrl(req)?.query;
  const params = new URLSearchParams(typeof query === 'string' ? query : '');
  for (const name of new Set(params.keys())) {
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? 'none' : allowed.map((known) => `\`${known}\``).join(', ');
      throw new InvalidParameter(name, `unknown parameter \`${name}\` (known: ${known})`);
    }
    if (name !== 'header' && params.getAll(name).length > 1) {
      throw new InvalidParameter(name, `\`${name}\` is given more than once`);
    }
  }
  return params;
}

/** The entry an `/entry` call names: `url` (or `key`), with `origin`, `credential` and `header`s. */
export function entryTargetOf(params: URLSearchParams, defaultOrigin: string | Request): EntryTarget {
  const url = nonEmpty(params, 'url');
  const key = nonEmpty(params, 'key');
  if (url === undefined && key === undefined) {
    throw new InvalidParameter(
      'url',
      'missing `url`: the URL of the cached GET (`/api/items/1`, or absolute), or `key` for a route with a custom `key`',
    );
  }
  if (url !== undefined && key !== undefined)
    throw new InvalidParameter('key', 'give `url` or `key`, not both');
  const origin = nonEmpty(params, 'origin');
  const absolute = url !== undefined && !url.startsWith('/');
  if (absolute && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]/.test(url)) {
    throw new InvalidParameter('url', '`url` must be a path (`/api/items/1`) or an absolute URL');
  }
  if (absolute && origin !== undefined) {
    throw new InvalidParameter('origin', 'an absolute `url` has its origin already: leave `origin` out');
  }
  const credential = nonEmpty(params, 'credential');
  return {
    keyTarget: {
      ...(url === undefined ? { key } : { url }),
      ...(absolute ? {} : { origin: origin ?? defaultOrigin }),
      ...(credential === undefined ? {} : { credential }),
    },
    headers: headersOf(params.getAll('header')),
  };
}

/** `header=name: value`, repeatable; two values of one name join as a request's would (`a, b`). */
function headersOf(fields: readonly string[]): Record<string, string> | undefined {
  if (fields.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colonAt = field.indexOf(':');
    const name = field.slice(0, colonAt).trim().toLowerCase();
    if (colonAt === -1 || !TOKEN.test(name)) {
      throw new InvalidParameter(
        'header',
        `\`header\` must be \`name: value\`, got ${JSON.stringify(field)}`,
      );
    }
    const value = field.slice(colonAt + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/** `limit` (1 to 1,000, default 100) and `cursor` of a paged call. */
export function pageOf(params: URLSearchParams): { limit: number; cursor: string | undefined } {
  const text = params.get('limit');
  const limit = text === null ? DEFAULT_PAGE_SIZE : Number(text);
  if (text !== null && (!/^\d+$/.test(text) || limit < 1 || limit > MAX_PAGE_SIZE)) {
    throw new InvalidParameter('limit', `\`limit\` must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return { limit, cursor: nonEmpty(params, 'cursor') };
}

/** Longest purge pattern accepted: a URL glob is short, and every instance matches it against keys. */
const MAX_PATTERN_LENGTH = 512;

/**
 * The `pattern` of a purge: a Redis glob over the path and query of URLs, starting with `/`. A pattern
 * that does not begin with a literal path (`/*`, `/?*`, `/[^/]*`) may empty the whole response cache at
 * once, sending every request to the handlers: it needs `confirm=all` as well.
 */
export function purgePatternOf(params: URLSearchParams): string {
  const pattern = nonEmpty(params, 'pattern');
  if (pattern === undefined) {
    throw new InvalidParameter('pattern', 'missing `pattern`: a glob over URL paths, such as `/api/items/*`');
  }
  if (!pattern.startsWith('/')) {
    throw new InvalidParameter(
      'pattern',
      '`pattern` must start with `/`: it matches the path and query of URLs',
    );
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidParameter('pattern', `\`pattern\` is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  const confirm = params.get('confirm');
  // Anything but a literal first character after `/` may reach every path (`/*`, `/?*`, `/[!-~]*`).
  const everything = /^\/(?:[*?[\\]|$)/.test(pattern) && pattern !== '/';
  if (everything && confirm !== 'all') {
    throw new InvalidParameter(
      'confirm',
      `\`pattern=${pattern}\` may purge every cached response: add \`confirm=all\` if that is what you want`,
    );
  }
  if (confirm !== null && confirm !== 'all')
    throw new InvalidParameter('confirm', '`confirm` can only be `all`');
  return pattern;
}

/** A parameter's value, `undefined` when absent; an empty value is refused. */
function nonEmpty(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (value === '') throw new InvalidParameter(name, `\`${name}\` must not be empty`);
  return value;
}

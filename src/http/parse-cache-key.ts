import { KEY_HEAD } from './build-cache-key.js';

/** What a readable response key says about the request it was made for (see `buildCacheKey`). */
export interface ParsedCacheKey {
  /** `scheme://authority`, as the request resolved it. */
  origin: string;
  /** The `Host` header, when a trusted `X-Forwarded-Host` gave the authority. */
  host?: string;
  /** Path and query, as the key holds them. */
  target: string;
  /** The URL: the origin and the target. */
  url: string;
  /**
   * The request headers the key holds, by lower-case name: their values (credentials appear as a
   * `#hash`), or `null` for a header the request did not have.
   */
  headers: Record<string, string | null>;
  /** The `credentialKey` partition, when the route has one. */
  credential?: string;
  /** Everything after the headers and the credential: keys of the variants of one URL share it. */
  resource: string;
}

/**
 * Reads back a key that `buildCacheKey` made; `undefined` for a hashed key (over 512 characters) and
 * for keys it did not make. Header names and values, the scheme and the authority are percent-encoded
 * in the key, so the first `:` after the head ends the headers and the next `:` ends the authority.
 */
export function parseCacheKey(key: string): ParsedCacheKey | undefined {
  if (!key.startsWith(KEY_HEAD)) return undefined;
  const headersEnd = key.indexOf(':', KEY_HEAD.length);
  const segments = key.slice(KEY_HEAD.length, headersEnd);
  if (headersEnd === -1 || (segments !== '' && !segments.startsWith(';'))) return undefined;
  const resource = key.slice(headersEnd + 1);
  const schemeEnd = resource.indexOf('://');
  const targetAt = resource.indexOf(':', schemeEnd + 3);
  if (schemeEnd <= 0 || targetAt === -1) return undefined;
  const [authority, host, ...extra] = resource.slice(schemeEnd + 3, targetAt).split(';host=');
  const headers: Record<string, string | null> = {};
  let credential: string | undefined;
  try {
    for (const segment of segments.split(';').slice(1)) {
      const equalsAt = segment.indexOf('=');
      const name = decodeURIComponent(equalsAt === -1 ? segment : segment.slice(0, equalsAt));
      const value = equalsAt === -1 ? null : decodeValue(segment.slice(equalsAt + 1));
      if (name === '@') credential = value ?? undefined;
      else headers[name] = value;
    }
    if (extra.length > 0 || authority === undefined) return undefined;
    const origin = `${decodeURIComponent(resource.slice(0, schemeEnd))}://${decodeURIComponent(authority)}`;
    const target = resource.slice(targetAt + 1);
    return {
      origin,
      ...(host === undefined ? {} : { host: decodeURIComponent(host) }),
      target,
      url: target.startsWith('/') ? origin + target : target,
      headers,
      ...(credential === undefined ? {} : { credential }),
      resource,
    };
  } catch {
    // A malformed escape: not a key of ours.
    return undefined;
  }
}

/** A header value as the key holds it: percent-encoded, or a credential's `#hash` as it is. */
function decodeValue(text: string): string {
  return text.startsWith('#') ? text : decodeURIComponent(text);
}

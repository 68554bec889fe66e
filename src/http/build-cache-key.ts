import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// Layout: `rc1:GET` [`;name=value`…] [`;@=credential`] `:` target. Header names and values are
// percent-encoded, so the part before the first `:` after `rc1:GET` never contains `:` or an
// unescaped `;`, and the key reads back unambiguously whatever the target holds. `rc1` is the layout
// version; GET and HEAD share the `GET` group because HEAD is answered from the GET entry.
const KEY_HEAD = 'rc1:GET';
const PLAIN_KEY_HEAD = `${KEY_HEAD}:`;
/** Keys longer than this are hashed (Redis keys are cheap to compare only while they are short). */
const MAX_READABLE_KEY_LENGTH = 512;
const READABLE_TARGET_LENGTH = 64;
// Credentials never appear in Redis in clear: their values enter the key as a hash.
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Builds the cache key of a request. `target` is the normalised request target (see
 * {@link normalizeTarget}) or a custom key; `headerNames` are the sorted, lower-case request headers
 * whose values select the variant; `credential` partitions entries per user. Two requests that differ
 * in any of these parts get different keys; keys over 512 characters are hashed, keeping a readable,
 * versioned prefix.
 */
export function buildCacheKey(
  target: string,
  headerNames: readonly string[],
  headers: IncomingHttpHeaders,
  credential: string | undefined,
): string {
  if (headerNames.length === 0 && credential === undefined) {
    return limitLength(PLAIN_KEY_HEAD + target, target);
  }
  let key = KEY_HEAD;
  for (const name of headerNames) {
    key += `;${encodeURIComponent(name)}`;
    const value = headers[name];
    if (value !== undefined) key += `=${encodeHeaderValue(name, value)}`;
  }
  if (credential !== undefined) key += `;@=${encodeURIComponent(credential)}`;
  return limitLength(`${key}:${target}`, target);
}

/**
 * The request target with its query parameters sorted by name, so `?a=1&b=2` and `?b=2&a=1` share an
 * entry. Parameters with the same name keep their order (`?a=1&a=2` is a different list from
 * `?a=2&a=1`), and nothing is decoded or dropped, so no two different parameter lists meet.
 */
export function normalizeTarget(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  if (queryAt === url.length - 1) return url.slice(0, queryAt);
  if (url.indexOf('&', queryAt) === -1) return url;
  const parameters = url.slice(queryAt + 1).split('&');
  // Array#sort is stable, which keeps repeated names in request order.
  parameters.sort(byParameterName);
  return `${url.slice(0, queryAt)}?${parameters.join('&')}`;
}

function byParameterName(left: string, right: string): number {
  const leftName = parameterName(left);
  const rightName = parameterName(right);
  if (leftName < rightName) return -1;
  return leftName > rightName ? 1 : 0;
}

function parameterName(parameter: string): string {
  const equalsAt = parameter.indexOf('=');
  return equalsAt === -1 ? parameter : parameter.slice(0, equalsAt);
}

function encodeHeaderValue(name: string, value: string | string[]): string {
  const text = typeof value === 'string' ? value : value.join(', ');
  if (CREDENTIAL_HEADERS.has(name)) return `#${hash(text)}`;
  return encodeURIComponent(text);
}

function limitLength(key: string, target: string): string {
  if (key.length <= MAX_READABLE_KEY_LENGTH) return key;
  // `#` cannot follow `rc1:GET` in a readable key, so a hashed key never equals a readable one.
  return `${KEY_HEAD}#${hash(key)}:${target.slice(0, READABLE_TARGET_LENGTH)}`;
}

function hash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

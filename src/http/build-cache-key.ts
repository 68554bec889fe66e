import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestOrigin } from './request-origin.js';

// Layout: `rc2:GET` [`;name=value`…] [`;@=credential`] `:` scheme `://` authority [`;host=` Host] `:`
// target (the Host part only when a trusted X-Forwarded-Host gave the authority). Header
// names and values, the scheme and the authority are percent-encoded, so none of them holds `:`, `;` or
// `/`: the key reads back unambiguously whatever the target holds, and no forged Host can make its
// authority end where another's target begins. `rc2` is the layout version (rc1 had no origin); GET and
// HEAD share the `GET` group because HEAD is answered from the GET entry.
export const KEY_HEAD = 'rc2:GET';
/** Keys longer than this are hashed (Redis keys are cheap to compare only while they are short). */
const MAX_READABLE_KEY_LENGTH = 512;
const READABLE_TARGET_LENGTH = 64;
// Credentials never appear in Redis in clear: their values enter the key as a hash.
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Builds the cache key of a request. `origin` is the scheme and authority the handler sees; `target`
 * is the path and query as `requestTarget` keys them, or a custom key; `headerNames` are the
 * sorted, lower-case request headers whose values select the variant; `credential` partitions entries
 * per user. Two requests that differ in any of these parts get different keys; keys over 512
 * characters are hashed, keeping a readable, versioned prefix.
 */
export function buildCacheKey(
  origin: RequestOrigin,
  target: string,
  headerNames: readonly string[],
  headers: IncomingHttpHeaders,
  credential: string | undefined,
): string {
  let key = KEY_HEAD;
  for (const name of headerNames) {
    key += `;${encodeURIComponent(name)}`;
    const value = headers[name];
    if (value !== undefined) key += `=${encodeHeaderValue(name, value)}`;
  }
  if (credential !== undefined) key += `;@=${encodeURIComponent(credential)}`;
  key += `:${encodeURIComponent(origin.scheme)}://${encodeURIComponent(origin.authority)}`;
  if (origin.host !== undefined) key += `;host=${encodeURIComponent(origin.host)}`;
  key += `:${target}`;
  return limitLength(key, target);
}

/**
 * A Redis glob over the response keys of every URL whose path and query match `targetGlob` (a glob
 * starting with `/`), at any origin, in any variant. The glob can also match a key whose target holds
 * `:` followed by a match (Redis globs have no "anything but `:`"), and sees only the first 64
 * characters of the target of a key long enough to be hashed.
 */
export function targetKeyPattern(targetGlob: string): string {
  return `${KEY_HEAD}*:${targetGlob}`;
}

function encodeHeaderValue(name: string, value: string | string[]): string {
  const text = typeof value === 'string' ? value : value.join(', ');
  if (CREDENTIAL_HEADERS.has(name)) return `#${hash(text)}`;
  return encodeURIComponent(text);
}

function limitLength(key: string, target: string): string {
  if (key.length <= MAX_READABLE_KEY_LENGTH) return key;
  // `#` cannot follow `rc2:GET` in a readable key, so a hashed key never equals a readable one.
  return `${KEY_HEAD}#${hash(key)}:${target.slice(0, READABLE_TARGET_LENGTH)}`;
}

function hash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

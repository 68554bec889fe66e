import type { OutgoingHttpHeader } from 'node:http';

/** Why a response was not stored. */
export type NotStoredReason =
  | 'status'
  | 'set-cookie'
  | 'no-store'
  | 'private'
  | 'no-cache'
  | 'vary-star'
  | 'too-large'
  | 'aborted'
  | 'zero-ttl'
  | 'vary-changed';

/** What a response may be to be stored. */
export interface StoragePolicy {
  statuses: ReadonlySet<number>;
  maxBodyBytes: number;
}

/** The response fields the storage decision reads, as `ServerResponse` exposes them. */
export interface ResponseHead {
  readonly statusCode: number;
  getHeader(name: string): OutgoingHttpHeader | undefined;
}

/** Parsed `Cache-Control` directives: lower-case name → value without quotes (`''` when valueless). */
export type CacheControl = ReadonlyMap<string, string>;

const NO_DIRECTIVES: CacheControl = new Map();

/**
 * Decides at header time whether a response may be stored; `undefined` means it may (its body size is
 * checked while it streams). Each rule is one predicate below.
 */
export function notStorableReason(head: ResponseHead, policy: StoragePolicy): NotStoredReason | undefined {
  if (!isStorableStatus(head.statusCode, policy.statuses)) return 'status';
  if (setsCookie(head)) return 'set-cookie';
  const directives = parseCacheControl(head.getHeader('cache-control'));
  if (hasNoStore(directives)) return 'no-store';
  if (isPrivate(directives)) return 'private';
  if (requiresRevalidation(directives)) return 'no-cache';
  if (variesOnEverything(head.getHeader('vary'))) return 'vary-star';
  if (exceedsBodyLimit(head.getHeader('content-length'), policy.maxBodyBytes)) return 'too-large';
  return undefined;
}

/**
 * RFC 9111 §3: only final responses with a status the route allows are stored. 206 is never stored
 * (RFC 9111 §3.3: it holds a part of the representation) nor 304 (it has no content to replay).
 */
function isStorableStatus(status: number, statuses: ReadonlySet<number>): boolean {
  return status !== 206 && status !== 304 && statuses.has(status);
}

/** RFC 9111 §7.3 and RFC 6265 §3: a response that sets a cookie is personal; replaying it leaks a session. */
function setsCookie(head: ResponseHead): boolean {
  return head.getHeader('set-cookie') !== undefined;
}

/** RFC 9111 §5.2.2.5: `no-store` forbids storing any part of the response. */
function hasNoStore(directives: CacheControl): boolean {
  return directives.has('no-store');
}

/** RFC 9111 §5.2.2.7: a shared cache must not store a `private` response (qualified or not). */
function isPrivate(directives: CacheControl): boolean {
  return directives.has('private');
}

/**
 * RFC 9111 §5.2.2.4: a `no-cache` response must not be reused without revalidation with the origin;
 * this cache never revalidates, so it does not store it (qualified or not).
 */
function requiresRevalidation(directives: CacheControl): boolean {
  return directives.has('no-cache');
}

/** RFC 9111 §4.1: `Vary: *` never matches a later request, so storing it is pointless. */
function variesOnEverything(vary: OutgoingHttpHeader | undefined): boolean {
  return parseVary(vary) === '*';
}

/** A declared `Content-Length` over the limit: the body is passed through without being buffered. */
function exceedsBodyLimit(contentLength: OutgoingHttpHeader | undefined, maxBodyBytes: number): boolean {
  return contentLength !== undefined && Number(contentLength) > maxBodyBytes;
}

/**
 * RFC 9111 §5.2: comma-separated directives, names case-insensitive, values tokens or quoted strings
 * (in which a comma is no separator; `\` escapes the next character). The first of a repeated
 * directive wins (§4.2.1).
 */
export function parseCacheControl(value: OutgoingHttpHeader | undefined): CacheControl {
  if (value === undefined) return NO_DIRECTIVES;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const directives = new Map<string, string>();
  for (const part of splitOutsideQuotes(text)) {
    const equalsAt = part.indexOf('=');
    const name = (equalsAt === -1 ? part : part.slice(0, equalsAt)).trim().toLowerCase();
    if (name === '' || directives.has(name)) continue;
    const raw = equalsAt === -1 ? '' : part.slice(equalsAt + 1).trim();
    directives.set(name, raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? unquote(raw) : raw);
  }
  return directives;
}

/** The list members of `text`, split on commas that are not inside a quoted string. */
function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted && char === '\\') {
      current += char + (text[i + 1] ?? '');
      i++;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** RFC 9110 §5.6.4: a quoted string's content, with its escapes undone. */
function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * RFC 9110 §12.5.5: `Vary` lists request header names (case-insensitive) or is `*`. Returns `'*'`, or
 * the lower-case names, de-duplicated and sorted so that equal lists compare equal.
 */
export function parseVary(value: OutgoingHttpHeader | undefined): '*' | string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const names = new Set<string>();
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') return '*';
    if (name !== '') names.add(name);
  }
  return [...names].sort();
}

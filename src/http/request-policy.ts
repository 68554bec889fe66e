import type { IncomingHttpHeaders } from 'node:http';

/** Why a request did not use the cache at all. */
export type BypassReason = 'method' | 'authorization' | 'cookie' | 'range';

/** Which credentials a route has said how to key. */
export interface CredentialPolicy {
  /** Requests with `Authorization` may use the cache (their value, or the user, is in the key). */
  keysAuthorization: boolean;
  /** Requests with `Cookie` may use the cache (their value, or the user, is in the key). */
  keysCookie: boolean;
}

/**
 * RFC 9111 §2 and §3: only responses to cacheable methods are stored. This cache stores GET and
 * answers HEAD from the GET entry (RFC 9110 §9.3.2: HEAD is GET without the content).
 */
export function isCacheableMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * RFC 9111 §3.5: a shared cache must not reuse a response to a request with `Authorization` for
 * another request, unless it is told how the response may be shared. Here the route says it.
 */
export function hasAuthorization(headers: IncomingHttpHeaders): boolean {
  return headers.authorization !== undefined;
}

/**
 * RFC 9111 §7.3 (privacy): responses to requests with `Cookie` are usually personal; they are not
 * shared unless the route puts the cookie (or the user it names) in the key.
 */
export function hasCookie(headers: IncomingHttpHeaders): boolean {
  return headers.cookie !== undefined;
}

/**
 * RFC 9110 §14.2: a range request asks for part of the representation. This cache neither stores
 * parts (RFC 9111 §3.3) nor slices stored bodies, so the handler answers range requests itself.
 */
export function isRangeRequest(headers: IncomingHttpHeaders): boolean {
  return headers.range !== undefined;
}

/** The reason `method`/`headers` must bypass the cache, or `undefined` when the cache may answer. */
export function bypassReason(
  method: string | undefined,
  headers: IncomingHttpHeaders,
  credentials: CredentialPolicy,
): BypassReason | undefined {
  if (!isCacheableMethod(method)) return 'method';
  if (!credentials.keysAuthorization && hasAuthorization(headers)) return 'authorization';
  if (!credentials.keysCookie && hasCookie(headers)) return 'cookie';
  if (isRangeRequest(headers)) return 'range';
  return undefined;
}

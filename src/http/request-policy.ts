import type { IncomingHttpHeaders } from 'node:http';

/**
 * Why a request did not use the cache at all. `disabled`: the cache is off (`cache.setMode('off')`), or
 * the route's `enabled` said no for this request.
 */
export type BypassReason =
  | 'method'
  | 'body'
  | 'authorization'
  | 'cookie'
  | 'range'
  | 'key-error'
  | 'disabled';

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
 * RFC 9110 §9.3.1: content in a GET request has no generally defined semantics, yet a handler may read
 * it; a response that depends on a body the key does not hold must not be shared (RFC 9110 §6.4.1: a
 * body is announced by `Content-Length` or `Transfer-Encoding`).
 */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const contentLength = headers['content-length'];
  return contentLength !== undefined && contentLength.trim() !== '0';
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
function isRangeRequest(headers: IncomingHttpHeaders): boolean {
  return headers.range !== undefined;
}

/** The request fields the bypass decision reads, as Express exposes them. */
export interface RequestHead {
  readonly method: string | undefined;
  /** The method the client sent, before a method override (`method-override`) changed `method`. */
  readonly originalMethod?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** The reason `request` must bypass the cache, or `undefined` when the cache may answer. */
export function bypassReason(request: RequestHead, credentials: CredentialPolicy): BypassReason | undefined {
  const { method, originalMethod = method, headers } = request;
  if (!isCacheableMethod(method) || !isCacheableMethod(originalMethod)) return 'method';
  if (hasBody(headers)) return 'body';
  if (!credentials.keysAuthorization && hasAuthorization(headers)) return 'authorization';
  if (!credentials.keysCookie && hasCookie(headers)) return 'cookie';
  if (isRangeRequest(headers)) return 'range';
  return undefined;
}

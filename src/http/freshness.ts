import type { OutgoingHttpHeader } from 'node:http';
import { type CacheControl, parseCacheControl } from './response-policy.js';

/** What a response says about its freshness, as the client received it. */
export interface FreshnessHeaders {
  cacheControl: OutgoingHttpHeader | undefined;
  expires: OutgoingHttpHeader | undefined;
  date: OutgoingHttpHeader | undefined;
  age: OutgoingHttpHeader | undefined;
}

/** How the route chose freshness. */
export interface FreshnessPolicy {
  /** Whether `max-age` and `Expires` set the lifetime (`ttlFromCacheControl`). */
  fromCacheControl: boolean;
  /** The route's `ttl` (or the cache's), in seconds. */
  routeTtlSeconds: number;
  /** Whether the cache serves stale entries while revalidating (else only when loading fails). */
  staleWhileRevalidate: boolean;
}

/** The freshness of a response as this cache stores it. */
export interface ResponseFreshness {
  /** Freshness lifetime counted from when the response was generated, in seconds; 0: not stored. */
  lifetimeSeconds: number;
  /** How old the response was when it arrived (RFC 9111 §4.2.3), in seconds. */
  initialAgeSeconds: number;
  /** The stale window the response allows; `undefined` leaves it to the route and the cache. */
  staleTtlSeconds: number | undefined;
}

/**
 * A response's freshness (RFC 9111 §4.2) under the route's policy:
 *
 * - lifetime (§4.2.1): with `ttlFromCacheControl`, `s-maxage`, else `max-age`, else `Expires` −
 *   `Date`, else the route's ttl; otherwise the route's ttl, capped by `s-maxage` (a shared cache's
 *   own directive). An invalid value means already expired.
 * - age (§4.2.3): the larger of the apparent age (now − `Date`) and the origin's `Age` plus the time
 *   the response took to arrive. It counts against the lifetime only when the lifetime came from the
 *   response itself; a route's own ttl runs from when this cache stored the response.
 * - stale use: none for `must-revalidate`, `proxy-revalidate` (§5.2.2.2, §5.2.2.8) or `s-maxage`
 *   (§5.2.2.10, which implies `proxy-revalidate`); with `ttlFromCacheControl`, the window of RFC 5861's
 *   `stale-while-revalidate` or `stale-if-error`, whichever the cache serves stale entries by.
 */
export function responseFreshness(
  headers: FreshnessHeaders,
  policy: FreshnessPolicy,
  requestTimeMs: number,
  responseTimeMs: number,
): ResponseFreshness {
  const directives = parseCacheControl(headers.cacheControl);
  const dateMs = parseHttpDate(singleValue(headers.date));
  const initialAgeSeconds = initialAge(headers.age, dateMs, requestTimeMs, responseTimeMs);
  const sharedMaxAge = deltaSeconds(directives, 's-maxage');
  let lifetimeSeconds: number;
  if (policy.fromCacheControl) {
    const fromResponse =
      sharedMaxAge ??
      deltaSeconds(directives, 'max-age') ??
      expiresLifetime(headers.expires, dateMs ?? responseTimeMs);
    lifetimeSeconds = fromResponse === undefined ? policy.routeTtlSeconds + initialAgeSeconds : fromResponse;
  } else {
    const routeLifetime = policy.routeTtlSeconds + initialAgeSeconds;
    lifetimeSeconds = sharedMaxAge === undefined ? routeLifetime : Math.min(routeLifetime, sharedMaxAge);
  }
  if (lifetimeSeconds <= initialAgeSeconds) lifetimeSeconds = 0;
  return {
    lifetimeSeconds,
    initialAgeSeconds,
    staleTtlSeconds: staleWindow(directives, sharedMaxAge !== undefined, policy),
  };
}

function staleWindow(
  directives: CacheControl,
  hasSharedMaxAge: boolean,
  policy: FreshnessPolicy,
): number | undefined {
  if (hasSharedMaxAge || directives.has('must-revalidate') || directives.has('proxy-revalidate')) return 0;
  if (!policy.fromCacheControl) return undefined;
  return deltaSeconds(directives, policy.staleWhileRevalidate ? 'stale-while-revalidate' : 'stale-if-error');
}

/** RFC 9111 §4.2.3, in seconds. */
function initialAge(
  ageHeader: OutgoingHttpHeader | undefined,
  dateMs: number | undefined,
  requestTimeMs: number,
  responseTimeMs: number,
): number {
  const apparentAge = dateMs === undefined ? 0 : Math.max(0, responseTimeMs - dateMs) / 1000;
  const responseDelay = Math.max(0, responseTimeMs - requestTimeMs) / 1000;
  const ageValue = parseAge(ageHeader);
  const correctedAge = ageValue === undefined ? responseDelay : ageValue + responseDelay;
  return Math.max(apparentAge, correctedAge);
}

/**
 * RFC 9111 §5.1: `Age` is a non-negative integer; of a list (repeated by a sender that should not
 * have), the first member counts; anything else is ignored.
 */
function parseAge(value: OutgoingHttpHeader | undefined): number | undefined {
  if (value === undefined) return undefined;
  const first = (Array.isArray(value) ? value.join(',') : String(value)).split(',')[0]?.trim() ?? '';
  return /^\d+$/.test(first) ? boundedSeconds(first) : undefined;
}

/** RFC 9111 §1.2.2: a delta-seconds too large to represent counts as 2^31. */
function boundedSeconds(digits: string): number {
  return Math.min(Number(digits), 2 ** 31);
}

/**
 * A directive's delta-seconds (RFC 9111 §1.2.2); `undefined` when absent. An invalid value gives 0: the
 * response is then treated as already stale (§4.2.1).
 */
function deltaSeconds(directives: CacheControl, name: string): number | undefined {
  const value = directives.get(name);
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? boundedSeconds(value) : 0;
}

/** RFC 9111 §5.3: the lifetime an `Expires` gives; an invalid date means already expired (0). */
function expiresLifetime(value: OutgoingHttpHeader | undefined, dateMs: number): number | undefined {
  if (value === undefined) return undefined;
  const expiresMs = parseHttpDate(singleValue(value));
  if (expiresMs === undefined) return 0;
  return Math.max(0, expiresMs - dateMs) / 1000;
}

/** RFC 9110 §5.6.7: an HTTP-date (IMF-fixdate, or the obsolete forms `Date.parse` reads); else `undefined`. */
function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined || !/^[A-Za-z]{3,9}, /.test(text.trim())) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function singleValue(value: OutgoingHttpHeader | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 1 ? String(value[0]) : undefined;
  return String(value);
}

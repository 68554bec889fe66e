import type { ServerResponse } from 'node:http';
import type { LookupOutcome } from '../engine/cache.js';
import type { CachedEntry, CachedResponse } from './cached-response.js';
import type { BypassReason } from './request-policy.js';

/**
 * What this cache did for one response, as one member of RFC 9211's `Cache-Status` list: `hit` with
 * `ttl` (its remaining freshness, negative once stale), or `fwd` (why the request went to the handler)
 * with `fwd-status`, `collapsed` and `detail` when known.
 */
export interface CacheStatusEntry {
  hit?: boolean;
  fwd?: 'uri-miss' | 'vary-miss' | 'stale' | 'bypass' | 'method' | 'request';
  fwdStatus?: number;
  ttlSeconds?: number;
  /** The request shared another request's handler run (RFC 9211 §2.5). */
  collapsed?: boolean;
  /**
   * `false` when the response is known, as its headers go out, not to be stored (RFC 9211 §2.6).
   * Whether it will be stored is not known then (a hook, its size, an invalidation may still stop it),
   * so `true` is never said.
   */
  stored?: false;
  detail?: string;
  /** Read when the headers go out: why the response will not be stored, as `detail`. */
  whyNotStored?: (res: ServerResponse) => string | undefined;
}

// RFC 8941 §3.3.4: a token starts with a letter or `*`.
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/**
 * The list member (RFC 9211 §2): the cache's name, then its parameters. `sent` holds what is known only
 * as the headers go out (see {@link addCacheStatusWhenHeadersGo}), and wins over `entry`'s own.
 */
export function formatCacheStatus(cacheName: string, entry: CacheStatusEntry, sent?: SentStatus): string {
  const fwdStatus = sent === undefined ? entry.fwdStatus : sent.fwdStatus;
  const detail = entry.detail ?? sent?.whyNotStored;
  let member = sfItem(cacheName);
  if (entry.hit === true) member += '; hit';
  if (entry.fwd !== undefined) member += `; fwd=${entry.fwd}`;
  if (fwdStatus !== undefined) member += `; fwd-status=${fwdStatus}`;
  if (entry.ttlSeconds !== undefined) member += `; ttl=${entry.ttlSeconds}`;
  if (entry.stored === false || sent?.whyNotStored !== undefined) member += '; stored=?0';
  if (entry.collapsed === true) member += '; collapsed';
  if (detail !== undefined) member += `; detail=${sfItem(detail)}`;
  return member;
}

/** What a response's `Cache-Status` says that is known only as its headers go out. */
interface SentStatus {
  /** The status the handler answered with, for a request that went to it (`fwd-status`). */
  readonly fwdStatus: number | undefined;
  /** Why the response will not be stored, when its headers say so already (`stored=?0`, `detail`). */
  readonly whyNotStored: string | undefined;
}

/**
 * Adds this cache's member after those of caches closer to the origin (RFC 9211 §2: each cache
 * appends), which the handler may have passed on from its own upstream.
 */
export function appendCacheStatus(res: ServerResponse, member: string): void {
  const upstream = res.getHeader('cache-status');
  const previous = Array.isArray(upstream)
    ? upstream.join(', ')
    : upstream === undefined
      ? ''
      : String(upstream);
  res.setHeader('Cache-Status', previous === '' ? member : `${previous}, ${member}`);
}

/** A token when it is one, else a quoted string of printable ASCII (RFC 8941 §3.3.3). */
function sfItem(text: string): string {
  if (SF_TOKEN.test(text)) return text;
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return `"${printable.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * Appends this cache's member to `Cache-Status` right before `res`'s headers go out, whoever sends
 * them (the handler, a replay, Node's implicit `writeHead`), with the status the handler answered
 * with as `fwd-status` when the request went to it. `entry()` says what the cache did by then;
 * `undefined` adds nothing.
 */
export function addCacheStatusWhenHeadersGo(
  res: ServerResponse,
  entry: () => CacheStatusEntry | undefined,
  cacheName: string,
): void {
  const originalWriteHead = res.writeHead;
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    const status = entry();
    if (status !== undefined && !this.headersSent) {
      if (typeof args[0] === 'number') this.statusCode = args[0];
      // Read here, not spread into a copy of `status`: every miss passes this way.
      const sent: SentStatus = {
        fwdStatus: status.fwd === undefined || status.fwd === 'stale' ? status.fwdStatus : this.statusCode,
        whyNotStored: status.whyNotStored?.(this),
      };
      appendCacheStatus(this, formatCacheStatus(cacheName, status, sent));
    }
    return Reflect.apply(originalWriteHead, this, args);
  } as ServerResponse['writeHead'];
}

/** RFC 9211 §2.2: why a bypassed request went to the handler. */
export function bypassForward(reason: BypassReason): CacheStatusEntry['fwd'] {
  if (reason === 'method') return 'method';
  return reason === 'authorization' || reason === 'cookie' || reason === 'body' || reason === 'range'
    ? 'request'
    : 'bypass';
}

/**
 * A replayed entry: a hit, with its freshness left (negative once stale); served stale because the
 * handler's own response failed, a forward that fell back on the stale entry; revalidated for this
 * request, a forward answered 304; shared from another request's handler run, a collapsed miss.
 */
export function replayStatus(
  entry: CachedResponse,
  outcome: LookupOutcome<CachedEntry | undefined>,
  handlerStatus: number | undefined,
  revalidated: boolean,
): CacheStatusEntry {
  if (revalidated) {
    const ttlSeconds = Math.floor((entry.ttlSeconds ?? 0) - (entry.ageSeconds ?? 0));
    return { fwd: 'stale', fwdStatus: 304, ttlSeconds };
  }
  const ttlSeconds =
    outcome.freshUntilMs === undefined ? undefined : Math.floor((outcome.freshUntilMs - Date.now()) / 1000);
  const ttl = ttlSeconds === undefined ? {} : { ttlSeconds };
  if (outcome.result === 'miss') return { fwd: 'uri-miss', collapsed: true, ...ttl };
  if (handlerStatus !== undefined) {
    // The handler's own answer, when it came (a server error); a slow handler has none yet.
    return handlerStatus >= 500
      ? { fwd: 'stale', fwdStatus: handlerStatus, ...ttl }
      : { fwd: 'stale', ...ttl };
  }
  return { hit: true, ...ttl };
}

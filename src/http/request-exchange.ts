import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Loader, LookupOutcome } from '../engine/cache.js';
import type { LoadContext, Revalidated } from '../engine/entry-options.js';
import type { LoadLease } from '../engine/load-lease.js';
import { buildCacheKey } from './build-cache-key.js';
import { addCacheStatusWhenHeadersGo, type CacheStatusEntry, formatCacheStatus } from './cache-status.js';
import type { CachedEntry, CachedResponse } from './cached-response.js';
import { type CapturedResponse, captureResponse, storedHeaders } from './capture-response.js';
import {
  type ConditionalHeaders,
  conditionalHeadersOf,
  setConditionalHeaders,
} from './conditional-headers.js';
import { credentialOf, customTarget } from './key-function-results.js';
import { refreshInBackground, refreshJobOf } from './refresh-in-background.js';
import { replayResponse } from './replay-response.js';
import type { RequestResult } from './request-events.js';
import { type RequestOrigin, requestOrigin } from './request-origin.js';
import { type BypassReason, bypassReason, hasAuthorization, hasCookie } from './request-policy.js';
import { applyQueryFilter, requestTarget } from './request-target.js';
import { notStorableReason } from './response-policy.js';
import { hasValidator, type Revalidation, validatorsOf } from './revalidation.js';
import type { RequestReason, RouteCaching } from './route-caching.js';
import { routePatternOf, UNMATCHED_ROUTE } from './route-pattern.js';
import { freshenedResponse, toCachedResponse } from './to-cached-response.js';
import { whenResponseDone } from './when-response-done.js';
import { type WithheldResponse, withholdResponse } from './withhold-response.js';

/** A request that asks for the full representation, whatever the client holds. */
const NO_CONDITIONS: ConditionalHeaders = { 'if-none-match': undefined, 'if-modified-since': undefined };

/** The origin of a request not keyed yet (a bypassed one never is). */
const NO_ORIGIN: RequestOrigin = { scheme: '', authority: '' };

/**
 * One request through the cache: bypass, or look up (following a `Vary` record to its variant), then
 * replay a stored response or run the handler, capturing its response for the key when it leads.
 */
export class RequestExchange {
  readonly #caching: RouteCaching;
  readonly #req: Request;
  readonly #res: Response;
  readonly #next: NextFunction;
  readonly #startedAtMs = performance.now();
  /** When the request came in, on the wall clock: the `request_time` of RFC 9111 §4.2.3. */
  readonly #requestTimeMs = Date.now();
  #origin: RequestOrigin = NO_ORIGIN;
  #target = '';
  #credential: string | undefined;
  #handledBy: 'nobody' | 'handler' | 'replay' = 'nobody';
  #reason: RequestReason | undefined;
  /** A background refresh (see `refreshInBackground`): it leads, and it is no client's request. */
  #isRefresh = false;
  /** The background refresh of the variants record this request started, if any. */
  #recordRefresh: Promise<CachedEntry | Revalidated<CachedEntry | undefined> | undefined> | undefined;
  /**
   * The handler's response to this request while the stale entry may still answer instead (stale-if-
   * error): it reaches the client only once its status shows it is no server error.
   */
  #withheld: WithheldResponse | undefined;
  /** What the response's `Cache-Status` says, set before its headers go out (RFC 9211). */
  #cacheStatus: CacheStatusEntry | undefined;
  /** The cache's name in `Cache-Status`; `undefined` when this response carries none. */
  #cacheStatusName: string | undefined;
  /** Whether `Cache-Status` is added when the handler's headers go out (see `#watchHandlerHeaders`). */
  #cacheStatusHooked = false;
  /** The base key led to a `Vary` record, and this request's variant was not stored. */
  #varyMiss = false;
  /** The handler answered this request's revalidation of the stale entry with 304. */
  #revalidatedHere = false;
  /** The client's conditional headers, while the request carries the stale entry's validators. */
  #clientConditions: ConditionalHeaders | undefined;
  /**
   * Read on entry: once a handler passes an error on, Express restores `req.baseUrl` before the error
   * handler responds. `undefined` when the middleware runs before routing (`app.use`).
   */
  readonly #routeOnEntry: string | undefined;

  constructor(route: RouteCaching, req: Request, res: Response, next: NextFunction) {
    this.#caching = route;
    this.#req = req;
    this.#res = res;
    this.#next = next;
    this.#routeOnEntry = routePatternOf(req);
  }

  /** Serves the request; never throws (errors of the route's own functions go to `next`). */
  start(): void {
    const job = refreshJobOf(this.#req);
    if (this.#caching.config.cacheStatus && job === undefined) {
      this.#cacheStatusName = this.#caching.cache.name ?? 'express-cache-aside';
    }
    const bypass = this.#keyRequest();
    if (job?.owner === this.#caching && bypass === undefined) {
      this.#isRefresh = true;
      job.start(this.#lead(job.variantNames, false, job.lease, job.revalidation));
    } else if (bypass === undefined) {
      this.#serve().catch((error: unknown) => this.#recover(error));
    } else {
      this.#runHandler('BYPASS', 'bypass', bypass);
    }
  }

  /**
   * Sets the key parts of the request, or says why it bypasses the cache. A route's `key` or
   * `credentialKey` that throws or gives something unusable makes the request bypass (`key-error`):
   * without a trustworthy key, the only safe answer is the handler's own.
   */
  #keyRequest(): BypassReason | undefined {
    const { config } = this.#caching;
    const req = this.#req;
    const bypass = bypassReason(req, config.credentials);
    if (bypass !== undefined) return bypass;
    if (config.query !== undefined) applyQueryFilter(req, config.query);
    this.#origin = requestOrigin(req);
    let option: 'key' | 'credentialKey' = 'key';
    try {
      this.#target = config.key === undefined ? requestTarget(req) : customTarget(config.key(req));
      const authorized = hasAuthorization(req.headers);
      if (config.credentialKey !== undefined && (authorized || hasCookie(req.headers))) {
        option = 'credentialKey';
        this.#credential = credentialOf(config.credentialKey(req));
        if (this.#credential === undefined) return authorized ? 'authorization' : 'cookie';
      }
    } catch (error) {
      this.#caching.reportKeyError(this.#routePattern() ?? UNMATCHED_ROUTE, option, error);
      return 'key-error';
    }
    return undefined;
  }

  async #serve(): Promise<void> {
    const { cache, config, entryOptions } = this.#caching;
    let outcome = await cache.lookup(
      this.#keyFor(config.varyHeaders),
      this.#loaderFor(undefined),
      entryOptions,
    );
    let entry = outcome.value;
    if (this.#handledBy === 'nobody' && entry?.kind === 'variants') {
      this.#varyMiss = true;
      outcome = await cache.lookup(this.#keyFor(entry.names), this.#loaderFor(entry.names), entryOptions);
      entry = outcome.value;
    }
    // This request ran the handler on a miss: the handler answers it.
    if (this.#handledBy === 'handler') return;
    if (entry?.kind === 'response') this.#replay(entry, outcome);
    else if (this.#withheld !== undefined) this.#sendWithheld();
    else this.#runHandler('MISS', 'miss', this.#req.method === 'HEAD' ? 'head' : 'uncacheable');
  }

  #loaderFor(variantNames: readonly string[] | undefined): Loader<CachedEntry | undefined> {
    return (_key, context) => {
      // An engine that does not say why it loads is asking for a miss.
      const cause = context?.cause ?? 'miss';
      // One client request, one handler run: a request whose handler already ran loads nothing more.
      const mayRun = this.#handledBy === 'nobody' && this.#withheld === undefined;
      // On a miss this request runs the handler, unless it is already answered (then it cannot).
      if (cause === 'miss') {
        return mayRun && this.#req.method !== 'HEAD'
          ? this.#lead(variantNames, false, context.lease)
          : undefined;
      }
      // A stale response waits as the fallback: the handler runs for this very request, its response
      // withheld until its status shows it is no server error, so that the client gets either it or
      // the stale entry, never a second run. (A stale variants record has no response to fall back on:
      // it is refreshed through a copy of the request, as in the background.)
      if (cause === 'stale-fallback' && context.stale?.kind === 'response') {
        if (!mayRun) throw new Error('the handler already ran for this request');
        // With the stale response's validators: the handler may answer 304 (RFC 9111 §4.3).
        const revalidation = revalidationOf(context, this.#caching.config.revalidate);
        if (revalidation !== undefined) {
          // The client's own conditions come back for the answer (a replay may answer them with 304).
          this.#clientConditions = conditionalHeadersOf(this.#req);
          setConditionalHeaders(this.#req, validatorsOf(revalidation.stale));
        }
        return this.#lead(variantNames, true, context.lease, revalidation);
      }
      // Otherwise the handler runs for a copy of the request, in the background, after this request got
      // the stale entry. Refreshing the variants record rewrites this request's variant too.
      if (cause === 'background-refresh' && variantNames !== undefined && this.#recordRefresh !== undefined) {
        return undefined;
      }
      // A stale response with a validator is revalidated: the handler may answer 304 (RFC 9111 §4.3).
      const refresh = refreshInBackground(
        this.#req,
        this.#caching,
        variantNames,
        context.lease,
        revalidationOf(context, this.#caching.config.revalidate),
      );
      if (variantNames === undefined) this.#recordRefresh = refresh;
      return refresh;
    };
  }

  /**
   * Runs the handler for this request and captures what it sends, for the engine to store. `withhold`:
   * the response reaches the client only when it is no server error; a server error rejects, so that
   * the stale entry answers instead (RFC 5861 §4). A HEAD request is never captured (it has no body).
   */
  async #lead(
    variantNames: readonly string[] | undefined,
    withhold: boolean,
    lease: LoadLease | undefined,
    revalidation?: Revalidation,
  ): Promise<CachedEntry | Revalidated<CachedEntry | undefined> | undefined> {
    const req = this.#req;
    const res = this.#res;
    // The leading request runs the handler without the client's validators, so that what it stores is
    // the complete response (RFC 9111 §4.3.1 lets a cache choose the conditions it sends on); a
    // revalidation carries the stale entry's own.
    if (revalidation === undefined) setConditionalHeaders(req, NO_CONDITIONS);
    const storage = this.#caching.config.storage;
    const inherited = res.getHeaders();
    this.#watchHandlerHeaders();
    const abandon = new AbortController();
    const capturing =
      req.method === 'HEAD'
        ? undefined
        : captureResponse(res, {
            maxBodyBytes: storage.maxBodyBytes,
            decide: (head) => {
              // Known now, before the response can finish: its `request` event must carry it.
              const why = notStorableReason(head, storage);
              if (why !== undefined) this.#reason = why;
              return why;
            },
            inherited,
            signal: abandon.signal,
          });
    if (withhold) {
      this.#withheld = withholdResponse(res, {
        inherited,
        maxHeldBytes: storage.maxBodyBytes,
        onSend: () => this.#answeredByHandler('MISS', 'miss', undefined),
        // Another answer replaced the handler's response: nothing of it is stored.
        onTakeOver: () => abandon.abort(),
        holdNotModified: revalidation !== undefined,
      });
      res.setHeader('X-Cache', 'MISS');
      this.#next();
      const decision = await this.#withheld.decision;
      if (decision === 'server-error') {
        abandon.abort();
        throw new Error('the handler answered with a server error');
      }
      if (decision === 'not-modified' && revalidation !== undefined) {
        abandon.abort();
        const freshened = freshenedResponse(
          revalidation.stale,
          storedHeaders(res, inherited),
          req,
          res,
          this.#caching,
          this.#requestTimeMs,
        );
        // A 304 that leaves the response stale (its new headers say so): the stale entry answers.
        if (freshened === undefined) throw new Error('the revalidated response is not fresh');
        this.#revalidatedHere = true;
        return revalidation.revalidated(freshened);
      }
    } else {
      this.#runHandler('MISS', 'miss', undefined);
    }
    if (capturing === undefined) return undefined;
    const outcome = await capturing;
    if (revalidation !== undefined && res.statusCode === 304) {
      // RFC 9111 §4.3.4: the stale response is still current; its headers take the 304's.
      const freshened = freshenedResponse(
        revalidation.stale,
        storedHeaders(res, inherited),
        req,
        res,
        this.#caching,
        this.#requestTimeMs,
      );
      return freshened === undefined ? undefined : revalidation.revalidated(freshened);
    }
    if (outcome.reason !== undefined) {
      this.#reason = outcome.reason;
      return undefined;
    }
    try {
      return await this.#toEntry(outcome.captured, variantNames, lease);
    } catch (error) {
      this.#reason = 'error';
      throw error;
    }
  }

  async #toEntry(
    captured: CapturedResponse,
    variantNames: readonly string[] | undefined,
    lease: LoadLease | undefined,
  ): Promise<CachedEntry | undefined> {
    const { cache, config, entryOptions } = this.#caching;
    const route = this.#routePattern() ?? UNMATCHED_ROUTE;
    const storable = toCachedResponse(
      captured,
      this.#req,
      this.#res,
      this.#caching,
      route,
      this.#requestTimeMs,
    );
    if (storable === undefined) {
      this.#reason = 'zero-ttl';
      return undefined;
    }
    const { response, varyNames } = storable;
    if (sameNames(varyNames, variantNames ?? config.varyHeaders)) return response;
    if (variantNames !== undefined) {
      // The handler changed its Vary since the record was written; the record expires with its TTL.
      this.#reason = 'vary-changed';
      return undefined;
    }
    // RFC 9111 §4.1: the response is selected by the Vary'd request headers, so it is stored under a
    // key that holds their values, and the base key records which headers those are. The variant is
    // written under the load's lease, as the record is: neither outlives an invalidation it crossed.
    await cache.set(
      this.#keyFor(varyNames),
      response,
      lease === undefined ? entryOptions : { ...entryOptions, lease },
    );
    const { ttlSeconds, ageSeconds, staleTtlSeconds, tags } = response;
    return { kind: 'variants', names: varyNames, route, ttlSeconds, ageSeconds, staleTtlSeconds, tags };
  }

  #replay(entry: CachedResponse, outcome: LookupOutcome<CachedEntry | undefined>): void {
    // Revalidated for this request: the handler said 304, and the stored response answers, fresh again.
    const revalidated = this.#revalidatedHere;
    const label =
      revalidated || outcome.result === 'hit' ? 'HIT' : outcome.result === 'stale' ? 'STALE' : 'MISS';
    const ageSeconds =
      outcome.createdAtMs !== undefined
        ? Math.max(0, Math.floor((Date.now() - outcome.createdAtMs) / 1000))
        : revalidated && entry.ageSeconds !== undefined
          ? Math.floor(entry.ageSeconds)
          : undefined;
    if (this.#clientConditions !== undefined) setConditionalHeaders(this.#req, this.#clientConditions);
    this.#cacheStatus = replayStatus(
      entry,
      outcome,
      this.#withheld === undefined ? undefined : this.#res.statusCode,
      revalidated,
    );
    // A plain replay sets its `Cache-Status` itself; once the handler ran, its headers hook does.
    const cacheStatus =
      this.#cacheStatusName === undefined || this.#cacheStatusHooked
        ? undefined
        : formatCacheStatus(this.#cacheStatusName, this.#cacheStatus);
    const send = () => replayResponse(this.#req, this.#res, entry, label, ageSeconds, cacheStatus);
    if (this.#withheld === undefined) {
      send();
    } else {
      // The handler ran for this request and its response has not gone out (a server error, or slower
      // than the cache waits): the stale entry answers, and what the handler sends is dropped, unstored.
      if (!this.#withheld.takeOver(send)) return;
    }
    this.#handledBy = 'replay';
    // The whole body went out in one `end` call: the response is complete from here on.
    this.#emit(
      revalidated ? 'hit' : outcome.result,
      revalidated ? 'revalidated' : outcome.coalesced ? 'coalesced' : undefined,
      this.#routeOnEntry ?? entry.route,
    );
  }

  /**
   * Adds `Cache-Status` when the handler's headers go out. Installed before any capture, so that what a
   * capture stores is the handler's own `Cache-Status`, never ours; only when the handler runs, so that
   * a hit pays for no wrapper.
   */
  #watchHandlerHeaders(): void {
    if (this.#cacheStatusName === undefined || this.#cacheStatusHooked) return;
    this.#cacheStatusHooked = true;
    addCacheStatusWhenHeadersGo(this.#res, () => this.#cacheStatus, this.#cacheStatusName);
  }

  #runHandler(label: 'MISS' | 'BYPASS', result: RequestResult, reason: RequestReason | undefined): void {
    this.#watchHandlerHeaders();
    this.#answeredByHandler(label, result, reason);
    this.#next();
  }

  /** The handler's response is this request's answer; its `request` event goes out when it is done. */
  #answeredByHandler(
    label: 'MISS' | 'BYPASS',
    result: RequestResult,
    reason: RequestReason | undefined,
  ): void {
    this.#handledBy = 'handler';
    this.#reason = reason;
    this.#res.setHeader('X-Cache', label);
    const storage = this.#caching.config.storage;
    this.#cacheStatus = {
      fwd: label === 'BYPASS' ? bypassForward(reason) : this.#varyMiss ? 'vary-miss' : 'uri-miss',
      ...(reason === undefined ? {} : { detail: reason }),
      // A miss's reason not to store is known from the handler's headers as they go out.
      ...(label === 'MISS' && reason === undefined
        ? { whyNotStored: (res: ServerResponse) => notStorableReason(res, storage) }
        : {}),
    };
    whenResponseDone(this.#res, () => {
      // A response that closed before `end` was never complete (its capture, if any, stored nothing).
      const why = this.#reason ?? (result === 'miss' && !this.#res.writableEnded ? 'aborted' : undefined);
      this.#emit(result, why, this.#routePattern() ?? UNMATCHED_ROUTE);
    });
  }

  /** Nothing else can answer a request whose handler already ran: its held server error goes out. */
  #sendWithheld(): void {
    if (this.#res.destroyed) {
      this.#emit('miss', 'aborted', this.#routePattern() ?? UNMATCHED_ROUTE);
      return;
    }
    this.#answeredByHandler('MISS', 'miss', 'status');
    this.#withheld?.release();
  }

  #recover(error: unknown): void {
    // Fail open: a request the cache could not serve runs the handler (the engine reported the cause),
    // unless the handler already ran for it.
    if (this.#handledBy === 'nobody' && this.#withheld !== undefined) this.#sendWithheld();
    else if (this.#handledBy === 'nobody') this.#runHandler('MISS', 'miss', 'error');
    else if (this.#handledBy === 'replay' && !this.#res.headersSent) this.#next(error);
  }

  #routePattern(): string | undefined {
    return this.#routeOnEntry ?? routePatternOf(this.#req);
  }

  #keyFor(headerNames: readonly string[]): string {
    return buildCacheKey(this.#origin, this.#target, headerNames, this.#req.headers, this.#credential);
  }

  #emit(result: RequestResult, reason: RequestReason | undefined, route: string): void {
    if (this.#isRefresh) return;
    const durationSeconds = (performance.now() - this.#startedAtMs) / 1000;
    const method = this.#req.method;
    this.#caching.cache.events.emit(
      'request',
      reason === undefined
        ? { route, method, result, durationSeconds }
        : { route, method, result, durationSeconds, reason },
    );
  }
}

/** RFC 9211 §2.2: why a bypassed request went to the handler. */
function bypassForward(reason: RequestReason | undefined): CacheStatusEntry['fwd'] {
  if (reason === 'method') return 'method';
  return reason === 'authorization' || reason === 'cookie' || reason === 'body' || reason === 'range'
    ? 'request'
    : 'bypass';
}

/** How to revalidate the stale response of `context`, when it has a validator (RFC 9111 §4.3.1). */
function revalidationOf(
  context: LoadContext<CachedEntry | undefined>,
  enabled: boolean,
): Revalidation | undefined {
  const { stale, revalidated } = context;
  if (!enabled || stale?.kind !== 'response' || revalidated === undefined) return undefined;
  if (!hasValidator(stale)) return undefined;
  return { stale, revalidated: (updated: CachedResponse) => revalidated(updated) };
}

/**
 * A replayed entry: a hit, with its freshness left (negative once stale); served stale because the
 * handler's own response failed, a forward that fell back on the stale entry; revalidated for this
 * request, a forward answered 304; shared from another request's handler run, a collapsed miss.
 */
function replayStatus(
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

function sameNames(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((name, index) => name === right[index]);
}

import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Loader, LookupOutcome } from '../engine/cache.js';
import type { Revalidated } from '../engine/entry-options.js';
import type { LoadLease } from '../engine/load-lease.js';
import { CacheOptionError } from '../errors.js';
import { buildCacheKey } from './build-cache-key.js';
import {
  addCacheStatusWhenHeadersGo,
  bypassForward,
  type CacheStatusEntry,
  formatCacheStatus,
  replayStatus,
} from './cache-status.js';
import type { CachedEntry, CachedResponse, VariantsRecord } from './cached-response.js';
import { CaptureAbandon, type CapturedResponse, captureResponse, storedHeaders } from './capture-response.js';
import {
  type ConditionalHeaders,
  conditionalHeadersOf,
  setConditionalHeaders,
} from './conditional-headers.js';
import { checkedTransition, type ExchangeState } from './exchange-state.js';
import { type RefreshJob, refreshInBackground, refreshJobOf } from './refresh-in-background.js';
import { replayResponse } from './replay-response.js';
import type { RequestResult } from './request-events.js';
import { type RequestOrigin, requestOrigin } from './request-origin.js';
import { type BypassReason, bypassReason, hasAuthorization, hasCookie } from './request-policy.js';
import { applyQueryFilter, requestTarget } from './request-target.js';
import { notStorableReason } from './response-policy.js';
import { type Revalidation, revalidationOf, validatorsOf } from './revalidation.js';
import type { RequestReason, RouteCaching } from './route-caching.js';
import { UNMATCHED_ROUTE } from './route-names.js';
import { responseShadowMatch } from './shadow-match.js';
import { stripSurrogateHeadersWhenHeadersGo } from './surrogate-keys.js';
import { freshenedResponse, toCachedResponse } from './to-cached-response.js';
import { withholdResponse } from './withhold-response.js';

/** A request that asks for the full representation, whatever the client holds. */
const NO_CONDITIONS: ConditionalHeaders = { 'if-none-match': undefined, 'if-modified-since': undefined };

/** The origin of a request not keyed yet (a bypassed one never is). */
const NO_ORIGIN: RequestOrigin = { scheme: '', authority: '' };

/** In shadow mode, a response whose `Vary` put it under a variant key, kept until it is compared and stored. */
interface ShadowVariant {
  readonly names: readonly string[];
  readonly response: CachedResponse;
  readonly lease: LoadLease | undefined;
}

/** A request whose handler runs with the stale entry waiting as the fallback. */
type StaleFallbackState = Extract<ExchangeState, { name: 'revalidating' | 'revalidated' }>;

/** The states without data, shared by every request: entering them allocates nothing. */
const ARRIVED: ExchangeState = { name: 'arrived' };
const LOOKING_UP: ExchangeState = { name: 'looking-up', varyMiss: false };
const LOOKING_UP_VARIANT: ExchangeState = { name: 'looking-up', varyMiss: true };
const REFRESHING: ExchangeState = { name: 'refreshing' };

/**
 * One request through the cache: bypass, or look up (following a `Vary` record to its variant), then
 * replay a stored response or run the handler, capturing its response for the key when it leads. Where
 * the request stands is one {@link ExchangeState}, changed only by `#enter`.
 */
export class RequestExchange {
  readonly #caching: RouteCaching;
  readonly #req: Request;
  readonly #res: Response;
  readonly #next: NextFunction;
  readonly #startedAtMs = performance.now();
  /** When the request came in, on the wall clock: the `request_time` of RFC 9111 §4.2.3. */
  readonly #requestTimeMs = Date.now();
  /** Set when the request is a background refresh (see `refreshInBackground`). */
  readonly #refreshJob: RefreshJob | undefined;
  /** The cache's name in `Cache-Status`; `undefined` when this response carries none. */
  readonly #cacheStatusName: string | undefined;
  /**
   * Read on entry: once a handler passes an error on, Express restores `req.baseUrl` before the error
   * handler responds. `undefined` when the middleware runs before routing (`app.use`).
   */
  readonly #routeOnEntry: string | undefined;
  #state: ExchangeState = ARRIVED;
  /** The key parts, set once when the request is keyed (a bypassed one never is). */
  #origin: RequestOrigin = NO_ORIGIN;
  #target = '';
  #credential: string | undefined;
  /**
   * This request started the background refresh of the variants record. Not a state of the request:
   * the engine may start that refresh after the request was answered.
   */
  #refreshesRecord = false;
  /**
   * The engine is in shadow mode for this request (it said so as it asked for the handler): the handler
   * answers, and the request is reported as `shadow`. Not a state: it says how the miss path is labelled.
   */
  #shadowed = false;
  /** In shadow mode, the handler's response when it went under a variant key (its `Vary`). */
  #shadowVariant: ShadowVariant | undefined;

  constructor(route: RouteCaching, req: Request, res: Response, next: NextFunction) {
    this.#caching = route;
    this.#req = req;
    this.#res = res;
    this.#next = next;
    this.#routeOnEntry = route.routeNames.of(req);
    this.#refreshJob = refreshJobOf(req);
    this.#cacheStatusName =
      route.config.cacheStatus && this.#refreshJob === undefined
        ? (route.cache.name ?? 'express-cache-aside')
        : undefined;
  }

  /** Serves the request; never throws (errors of the route's own functions go to `next`). */
  start(): void {
    const bypass = this.#disabledReason() ?? this.#keyRequest();
    const job = this.#refreshJob;
    if (bypass !== undefined) {
      this.#bypass(bypass);
    } else if (job?.owner === this.#caching) {
      this.#enter(REFRESHING);
      job.start(this.#lead(job.variantNames, false, job.lease, job.revalidation, undefined));
    } else {
      this.#enter(LOOKING_UP);
      this.#serve().catch((error: unknown) => this.#recover(error));
    }
  }

  /**
   * Passes the request on, toward the handler. A middleware of the same cache mounted after this one
   * then passes it on as well: it would otherwise join the load this request leads (see
   * `responseCache`). Only these requests are marked, so a hit costs nothing for it.
   */
  #toHandler(): void {
    this.#caching.passedOn.add(this.#req);
    this.#next();
  }

  /** The one place the state changes: every transition is checked (see `checkedTransition`). */
  #enter(next: ExchangeState): void {
    this.#state = checkedTransition(this.#state, next);
  }

  /**
   * `disabled` when the cache is off or the route's `enabled` says no for this request; `key-error`
   * when `enabled` threw or gave no boolean. A background refresh is a load under way: it finishes as
   * it began, whatever the mode since.
   */
  #disabledReason(): BypassReason | undefined {
    const { cache, config } = this.#caching;
    if (this.#refreshJob?.owner === this.#caching) return undefined;
    if (cache.mode === 'off') return 'disabled';
    const { enabled } = config;
    if (typeof enabled === 'boolean') return enabled ? undefined : 'disabled';
    try {
      return enabledFor(enabled(this.#req)) ? undefined : 'disabled';
    } catch (error) {
      this.#caching.reportKeyError(this.#routePattern() ?? UNMATCHED_ROUTE, 'enabled', error);
      return 'key-error';
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
    const { cache, config } = this.#caching;
    const route = this.#routeOnEntry;
    // The route names the lookups' trace spans and groups the loads in logs. Before routing (`app.use`)
    // it is not known yet: the spans go without, and the group is read once the handler ran.
    const entryOptions =
      route === undefined
        ? { ...this.#caching.entryOptions, group: () => this.#routePattern() ?? UNMATCHED_ROUTE }
        : this.#caching.entryOptionsOf(route);
    const baseKey = this.#keyFor(config.varyHeaders);
    let outcome = await cache.lookup(baseKey, this.#loaderFor(undefined), entryOptions);
    if (outcome.shadow !== undefined) {
      await this.#finishShadow(baseKey, outcome);
      return;
    }
    let entry = outcome.value;
    if (this.#state.name === 'looking-up' && entry?.kind === 'variants') {
      this.#enter(LOOKING_UP_VARIANT);
      outcome = await cache.lookup(this.#keyFor(entry.names), this.#loaderFor(entry.names), entryOptions);
      entry = outcome.value;
    }
    const state = this.#state;
    // This request ran the handler on a miss: the handler answers it.
    if (state.name === 'running-handler' || state.name === 'not-stored') return;
    if (entry?.kind === 'response') this.#replay(entry, outcome);
    else if (state.name === 'revalidating' || state.name === 'revalidated')
      this.#sendWithheld(state, 'status');
    else this.#runHandler(this.#notLedReason());
  }

  /** Why a miss whose handler ran for another request is answered by the handler again. */
  #notLedReason(): 'head' | 'uncacheable' {
    return this.#req.method === 'HEAD' ? 'head' : 'uncacheable';
  }

  #loaderFor(variantNames: readonly string[] | undefined): Loader<CachedEntry | undefined> {
    return (_key, context) => {
      // An engine that does not say why it loads is asking for a miss.
      const cause = context?.cause ?? 'miss';
      // One client request, one handler run: a request whose handler already ran loads nothing more.
      const mayRun = this.#state.name === 'looking-up';
      // In shadow mode, the handler answers every request as on a miss, whatever the cache holds.
      if (cause === 'shadow') this.#shadowed = true;
      // On a miss this request runs the handler, unless it is already answered (then it cannot).
      if (cause === 'miss' || cause === 'shadow') {
        return mayRun && this.#req.method !== 'HEAD'
          ? this.#lead(variantNames, false, context.lease, undefined, undefined)
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
        let clientConditions: ConditionalHeaders | undefined;
        if (revalidation !== undefined) {
          // The client's own conditions come back for the answer (a replay may answer them with 304).
          clientConditions = conditionalHeadersOf(this.#req);
          setConditionalHeaders(this.#req, validatorsOf(revalidation.stale));
        }
        return this.#lead(variantNames, true, context.lease, revalidation, clientConditions);
      }
      // Otherwise the handler runs for a copy of the request, in the background, after this request got
      // the stale entry. Refreshing the variants record rewrites this request's variant too.
      if (cause === 'background-refresh' && variantNames !== undefined && this.#refreshesRecord) {
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
      if (variantNames === undefined) this.#refreshesRecord = true;
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
    revalidation: Revalidation | undefined,
    clientConditions: ConditionalHeaders | undefined,
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
    const abandon = new CaptureAbandon();
    // RFC 9111 §4.3.4: the handler's 304 says the stale response is still current; its headers take the 304's.
    const freshen = ({ stale }: Revalidation) =>
      freshenedResponse(stale, storedHeaders(res, inherited), req, res, this.#caching, this.#requestTimeMs);
    const capturing =
      req.method === 'HEAD'
        ? undefined
        : captureResponse(res, {
            maxBodyBytes: storage.maxBodyBytes,
            decide: (head) => {
              // Known now, before the response can finish: its `request` event must carry it.
              const why = notStorableReason(head, storage);
              if (why !== undefined) this.#noteNotStored(why);
              return why;
            },
            inherited,
            abandon,
          });
    if (withhold) {
      const withheld = withholdResponse(res, {
        inherited,
        maxHeldBytes: storage.maxBodyBytes,
        onSend: () => this.#answeredByHandler(undefined),
        // Another answer replaced the handler's response: nothing of it is stored.
        onTakeOver: () => abandon.abort(),
        holdNotModified: revalidation !== undefined,
      });
      this.#stripSurrogateHeaders();
      const varyMiss = this.#state.name === 'looking-up' && this.#state.varyMiss;
      this.#enter({ name: 'revalidating', withheld, clientConditions, varyMiss });
      res.setHeader('X-Cache', 'MISS');
      this.#toHandler();
      const decision = await withheld.decision;
      if (decision === 'server-error') {
        abandon.abort();
        throw new ServerErrorAnswer(res.statusCode);
      }
      if (decision === 'not-modified' && revalidation !== undefined) {
        abandon.abort();
        const freshened = freshen(revalidation);
        // A 304 that leaves the response stale (its new headers say so): the stale entry answers.
        if (freshened === undefined) throw new Error('the revalidated response is not fresh');
        this.#enter({ name: 'revalidated', withheld, clientConditions, varyMiss });
        return revalidation.revalidated(freshened);
      }
    } else {
      this.#answeredByHandler(undefined);
      this.#stripSurrogateHeaders();
      this.#toHandler();
    }
    if (capturing === undefined) return undefined;
    const outcome = await capturing;
    // The stale entry answered instead (a takeover): the status on `res` is then the replay's (a 304 to
    // the client's own validators, say), not the handler's, and nothing the handler sent is stored.
    if (abandon.aborted) return undefined;
    if (revalidation !== undefined && res.statusCode === 304) {
      const freshened = freshen(revalidation);
      return freshened === undefined ? undefined : revalidation.revalidated(freshened);
    }
    if (outcome.reason !== undefined) {
      this.#noteNotStored(outcome.reason);
      // A server error is a failed load (for metrics, logs and stats) unless the route stores it. The
      // client has its answer already; requests sharing this load run the handler themselves.
      if (res.statusCode >= 500) throw new ServerErrorAnswer(res.statusCode);
      return undefined;
    }
    try {
      return await this.#toEntry(outcome.captured, variantNames, lease);
    } catch (error) {
      this.#noteNotStored('error');
      throw error;
    }
  }

  /**
   * Why the handler's response to this request is not stored, once known. Only a response that answers
   * this request has a say: one that another answer replaced, or a background refresh's, has none.
   */
  #noteNotStored(reason: RequestReason): void {
    const state = this.#state;
    if (state.name === 'running-handler' || state.name === 'not-stored') {
      this.#enter({ name: 'not-stored', reason, cacheStatus: state.cacheStatus });
    }
  }

  async #toEntry(
    captured: CapturedResponse,
    variantNames: readonly string[] | undefined,
    lease: LoadLease | undefined,
  ): Promise<CachedEntry | undefined> {
    const { config } = this.#caching;
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
      this.#noteNotStored('zero-ttl');
      return undefined;
    }
    const { response, varyNames } = storable;
    if (sameNames(varyNames, variantNames ?? config.varyHeaders)) return response;
    if (variantNames !== undefined) {
      // The handler changed its Vary since the record was written; the record expires with its TTL.
      this.#noteNotStored('vary-changed');
      return undefined;
    }
    // RFC 9111 §4.1: the response is selected by the Vary'd request headers, so it is stored under a
    // key that holds their values, and the base key records which headers those are. The variant is
    // written under the load's lease, as the record is: neither outlives an invalidation it crossed.
    // In shadow mode it is first compared with the variant stored (see `#finishShadow`).
    if (this.#shadowed) this.#shadowVariant = { names: varyNames, response, lease };
    else await this.#storeVariant(varyNames, response, lease);
    const { ttlSeconds, ageSeconds, staleTtlSeconds, tags } = response;
    return { kind: 'variants', names: varyNames, route, ttlSeconds, ageSeconds, staleTtlSeconds, tags };
  }

  async #storeVariant(
    names: readonly string[],
    response: CachedResponse,
    lease: LoadLease | undefined,
  ): Promise<void> {
    const { cache, entryOptions } = this.#caching;
    await cache.set(
      this.#keyFor(names),
      response,
      lease === undefined ? entryOptions : { ...entryOptions, lease },
    );
  }

  /**
   * Shadow mode: the handler answered (the engine ran it as the loader and stored its response as a
   * miss would have). What remains is to say what the cache would have replayed, and whether it was the
   * same response. For a response under a variant key, that is the variant the stored `Vary` record
   * leads to, read, compared and stored (unless it would have been a hit) under the handler's lease.
   */
  async #finishShadow(baseKey: string, outcome: LookupOutcome<CachedEntry | undefined>): Promise<void> {
    if (this.#state.name === 'looking-up') {
      // The engine asked for no handler run (HEAD): the handler answers, and without a body to compare,
      // the request is not counted.
      this.#runHandler(this.#req.method === 'HEAD' ? 'head' : 'uncacheable');
      return;
    }
    let key = baseKey;
    let verdict = outcome.shadow;
    let fresh = outcome.value?.kind === 'response' ? outcome.value : undefined;
    const variant = this.#shadowVariant;
    if (variant !== undefined) {
      fresh = variant.response;
      if (leadsTo(outcome.shadow?.cached, variant.names)) {
        key = this.#keyFor(variant.names);
        const { entryOptions } = this.#caching;
        const options =
          variant.lease === undefined ? entryOptions : { ...entryOptions, lease: variant.lease };
        verdict = (await this.#caching.cache.lookup(key, () => variant.response, options)).shadow;
      } else {
        // No record, or one for other headers: the variant is stored as on a miss.
        await this.#storeVariant(variant.names, variant.response, variant.lease);
      }
    }
    // Switched on meanwhile: the second lookup was a real one, with nothing to report.
    if (verdict === undefined) return;
    const match = responseShadowMatch(verdict, fresh, this.#res.statusCode);
    const route = this.#routePattern() ?? UNMATCHED_ROUTE;
    this.#caching.cache.events.emit('shadow', { key, would: verdict.would, match, route });
  }

  #replay(entry: CachedResponse, outcome: LookupOutcome<CachedEntry | undefined>): void {
    const state = this.#state;
    // The handler ran for this request, its response withheld, and the stored response answers instead.
    const fallback = state.name === 'revalidating' || state.name === 'revalidated' ? state : undefined;
    // Revalidated for this request: the handler said 304, and the stored response answers, fresh again.
    const revalidated = state.name === 'revalidated';
    const label =
      revalidated || outcome.result === 'hit' ? 'HIT' : outcome.result === 'stale' ? 'STALE' : 'MISS';
    const ageSeconds =
      outcome.createdAtMs !== undefined
        ? Math.max(0, Math.floor((Date.now() - outcome.createdAtMs) / 1000))
        : revalidated && entry.ageSeconds !== undefined
          ? Math.floor(entry.ageSeconds)
          : undefined;
    if (fallback?.clientConditions !== undefined) setConditionalHeaders(this.#req, fallback.clientConditions);
    const cacheStatus = replayStatus(
      entry,
      outcome,
      fallback === undefined ? undefined : this.#res.statusCode,
      revalidated,
    );
    if (fallback === undefined) {
      // A plain replay sets its `Cache-Status` itself.
      const member =
        this.#cacheStatusName === undefined
          ? undefined
          : formatCacheStatus(this.#cacheStatusName, cacheStatus);
      const { surrogateHeaders } = this.#caching.config;
      replayResponse(this.#req, this.#res, entry, label, ageSeconds, member, surrogateHeaders);
      this.#enter({ name: 'replayed', cacheStatus });
    } else {
      // The handler ran for this request and its response has not gone out (a server error, or slower
      // than the cache waits): the stale entry answers, and what the handler sends is dropped, unstored.
      // Entered as the answer goes out, only if it does: the handler's headers hook reads `cacheStatus`
      // from the state, and a takeover refused (the handler's response began meanwhile) leaves it as it was.
      const send = () => {
        this.#enter({ name: 'replayed', cacheStatus });
        const { surrogateHeaders } = this.#caching.config;
        replayResponse(this.#req, this.#res, entry, label, ageSeconds, undefined, surrogateHeaders);
      };
      if (!fallback.withheld.takeOver(send)) return;
    }
    // The whole body went out in one `end` call: the response is complete from here on.
    this.#emit(
      revalidated ? 'hit' : outcome.result,
      revalidated ? 'revalidated' : outcome.coalesced ? 'coalesced' : undefined,
      // Named where it was stored (another instance, an earlier release): bounded here as well.
      this.#routeOnEntry ?? this.#caching.routeNames.stored(entry.route),
    );
  }

  /**
   * Adds `Cache-Status` when the handler's headers go out. Installed before any capture, so that what a
   * capture stores is the handler's own `Cache-Status`, never ours; only when the handler runs, so that
   * a hit pays for no wrapper. The handler runs at most once per request, so this is installed once.
   */
  #watchHandlerHeaders(): void {
    if (this.#cacheStatusName === undefined) return;
    addCacheStatusWhenHeadersGo(this.#res, () => this.#cacheStatus(), this.#cacheStatusName);
  }

  /**
   * With `surrogateHeaders: 'strip'`, takes the surrogate headers off the handler's response as it goes
   * out. Installed after every other wrapper of `writeHead` (a capture, a withheld response), so that
   * none of them sees the headers: they are neither sent nor stored, and their tags are kept for the entry.
   */
  #stripSurrogateHeaders(): void {
    if (this.#caching.config.surrogateHeaders === 'strip') stripSurrogateHeadersWhenHeadersGo(this.#res);
  }

  /** What `Cache-Status` says so far: nothing until the request is answered. */
  #cacheStatus(): CacheStatusEntry | undefined {
    const state = this.#state;
    return 'cacheStatus' in state ? state.cacheStatus : undefined;
  }

  /** The request may not use the cache: the handler answers it, and nothing is looked up or stored. */
  #bypass(reason: BypassReason): void {
    this.#watchHandlerHeaders();
    this.#stripSurrogateHeaders();
    this.#res.setHeader('X-Cache', 'BYPASS');
    this.#enter({ name: 'bypassed', reason, cacheStatus: { fwd: bypassForward(reason), detail: reason } });
    this.#emitWhenDone('bypass');
    this.#toHandler();
  }

  /** The handler answers a miss this request did not lead: its response is not stored, for `reason`. */
  #runHandler(reason: RequestReason): void {
    this.#watchHandlerHeaders();
    this.#stripSurrogateHeaders();
    this.#answeredByHandler(reason);
    this.#toHandler();
  }

  /**
   * The handler's response is this request's answer to a miss; `reason`, when it is known already not to
   * be stored. A background refresh has no client: its response gets `X-Cache` only.
   */
  #answeredByHandler(reason: RequestReason | undefined): void {
    // In shadow mode the response does not come from the cache, whatever it holds.
    const shadowed = this.#shadowed;
    this.#res.setHeader('X-Cache', shadowed ? 'BYPASS' : 'MISS');
    const from = this.#state;
    // `not-stored` already: a stale fallback whose lookup failed let the handler's response through
    // before it began (`#sendWithheld`); its `request` event is already on its way.
    if (from.name === 'refreshing' || from.name === 'not-stored') return;
    const forward: CacheStatusEntry = shadowed
      ? { fwd: 'bypass', detail: 'shadow' }
      : { fwd: 'varyMiss' in from && from.varyMiss ? 'vary-miss' : 'uri-miss' };
    if (reason === undefined) {
      const storage = this.#caching.config.storage;
      // A miss's reason not to store is known from the handler's headers as they go out.
      const whyNotStored = (res: ServerResponse) => notStorableReason(res, storage);
      this.#enter({ name: 'running-handler', cacheStatus: { ...forward, whyNotStored } });
    } else {
      this.#enter({ name: 'not-stored', reason, cacheStatus: { detail: reason, ...forward } });
    }
    this.#emitWhenDone(shadowed ? 'shadow' : 'miss');
  }

  /** The `request` event of a response the handler made goes out when it is done. */
  #emitWhenDone(result: 'miss' | 'bypass' | 'shadow'): void {
    whenResponseDone(this.#res, () => {
      const state = this.#state;
      // A response that closed before `end` was never complete (its capture, if any, stored nothing).
      const why =
        state.name === 'not-stored' || state.name === 'bypassed'
          ? state.reason
          : result !== 'bypass' && !this.#res.writableEnded
            ? 'aborted'
            : undefined;
      this.#emit(result, why, this.#routePattern() ?? UNMATCHED_ROUTE);
    });
  }

  /** Nothing else can answer a request whose handler already ran: its held server error goes out. */
  #sendWithheld({ withheld }: StaleFallbackState, reason: 'status' | 'error'): void {
    if (this.#res.destroyed) {
      this.#emit('miss', 'aborted', this.#routePattern() ?? UNMATCHED_ROUTE);
      return;
    }
    this.#answeredByHandler(reason);
    withheld.release();
  }

  #recover(error: unknown): void {
    // Fail open: a request the cache could not serve runs the handler (the engine reported the cause),
    // unless the handler already ran for it.
    const state = this.#state;
    if (state.name === 'revalidating' || state.name === 'revalidated') this.#sendWithheld(state, 'error');
    else if (state.name === 'looking-up')
      // The load this request shared was answered with a server error: as any response it could not share.
      this.#runHandler(error instanceof ServerErrorAnswer ? this.#notLedReason() : 'error');
    else if (state.name === 'replayed' && !this.#res.headersSent) this.#next(error);
  }

  #routePattern(): string | undefined {
    return this.#routeOnEntry ?? this.#caching.routeNames.of(this.#req);
  }

  #keyFor(headerNames: readonly string[]): string {
    return buildCacheKey(this.#origin, this.#target, headerNames, this.#req.headers, this.#credential);
  }

  #emit(result: RequestResult, reason: RequestReason | undefined, route: string): void {
    const durationSeconds = (performance.now() - this.#startedAtMs) / 1000;
    const method = this.#req.method;
    const status = this.#res.statusCode;
    this.#caching.cache.events.emit(
      'request',
      reason === undefined
        ? { route, method, result, status, durationSeconds }
        : { route, method, result, status, durationSeconds, reason },
    );
  }
}

/**
 * The handler answered a load with a server error: the load failed (RFC 5861 §4: a stale entry is the
 * better answer, when there is one).
 */
class ServerErrorAnswer extends Error {
  constructor(status: number) {
    super(`the handler answered with status ${status}`);
  }
}

function sameNames(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((name, index) => name === right[index]);
}

/** Whether `entry` is a `Vary` record for exactly the headers `names`. */
function leadsTo(entry: CachedEntry | undefined, names: readonly string[]): entry is VariantsRecord {
  return entry?.kind === 'variants' && sameNames(entry.names, names);
}

/** The result of a route's `enabled` function, checked: a boolean, else a `TypeError`. */
function enabledFor(enabled: unknown): boolean {
  if (typeof enabled !== 'boolean') {
    throw new CacheOptionError(`responseCache: \`enabled\` must return a boolean, got ${describe(enabled)}`);
  }
  return enabled;
}

/** The result of a route's `key` function, checked: a non-empty string, else a `TypeError`. */
function customTarget(target: unknown): string {
  if (typeof target !== 'string' || target.length === 0) {
    throw new CacheOptionError(
      `responseCache: \`key\` must return a non-empty string, got ${describe(target)}`,
    );
  }
  return target;
}

/**
 * The result of a route's `credentialKey` function, checked: a non-empty string or a finite number (a
 * numeric user id) is an identity, as text; `undefined` or `null` means none; anything else is a
 * `TypeError` (an empty string would put every user in one entry).
 */
function credentialOf(credential: unknown): string | undefined {
  if (credential === undefined || credential === null) return undefined;
  if (typeof credential === 'string' && credential.length > 0) return credential;
  if (typeof credential === 'number' && Number.isFinite(credential)) return String(credential);
  throw new CacheOptionError(
    `responseCache: \`credentialKey\` must return a non-empty string, a finite number or undefined, got ${describe(credential)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** Calls `callback` once, when `res` has finished or closed, whichever comes first. */
function whenResponseDone(res: ServerResponse, callback: () => void): void {
  const done = () => {
    res.off('finish', done);
    res.off('close', done);
    callback();
  };
  res.on('finish', done);
  res.on('close', done);
}

import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import type { Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { CacheSpan, CacheSpanFacts, CacheSpanName, CacheTracer } from '../engine/cache-tracer.js';
import { NO_TRACING } from '../engine/cache-tracer.js';
import { CacheOptionError } from '../errors.js';
import type { CacheEvents, FailureOperation } from '../events.js';
import { hashCacheKey } from './cache-logger.js';

type Api = typeof OpenTelemetryApi;

/** Loads a module by name as `require` does, throwing `MODULE_NOT_FOUND` for one not installed. */
export type ModuleLoader = (name: string) => unknown;

/**
 * `require` from this package: synchronous, so that `createCache` stays synchronous and the package
 * loadable with `require()` (an ESM module with a top-level `await` is not).
 */
export const requireModule: ModuleLoader = createRequire(import.meta.url);

/** The attribute each fact of the engine is recorded under. */
const ATTRIBUTE_OF: Record<keyof CacheSpanFacts, string> = {
  result: 'cache.result',
  reason: 'cache.reason',
  cause: 'cache.cause',
  coalesced: 'cache.coalesced',
  renewal: 'cache.renewal',
  kind: 'cache.invalidation.kind',
  count: 'cache.invalidation.count',
  keyCount: 'cache.key_count',
  hitCount: 'cache.hit_count',
  route: 'http.route',
};

/** What the engine tells a span nobody records: nothing is kept. */
const NOT_RECORDED: CacheSpan = { note: () => undefined };

/**
 * Traces the operations of one cache (named `cacheName`) with OpenTelemetry when `@opentelemetry/api`
 * can be loaded, as spans of the tracer provider registered with it (none registered: the api's no-op
 * spans, which record nothing); without the api, tracing is {@link NO_TRACING} and nothing else is
 * loaded. A Redis failure is recorded on the cache's span in which it happened.
 */
export function attachOpenTelemetry(
  events: CacheEvents,
  cacheName: string,
  load: ModuleLoader = requireModule,
): CacheTracer {
  const api = loadApi(load);
  if (api === undefined) return NO_TRACING;
  const tracer = new OpenTelemetryTracer(api, cacheName);
  events.on('failure', ({ operation, error }) => tracer.recordFailure(operation, error));
  return tracer;
}

function loadApi(load: ModuleLoader): Api | undefined {
  let api: Partial<Api>;
  try {
    api = load('@opentelemetry/api') as Partial<Api>;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND') return undefined;
    throw new CacheOptionError(
      `createCache: @opentelemetry/api is installed but could not be loaded (${messageOf(error)}); fix it, or pass \`tracing: false\``,
    );
  }
  if (typeof api.trace?.getTracer !== 'function' || typeof api.context?.with !== 'function') {
    throw new CacheOptionError(
      'createCache: the installed @opentelemetry/api is not a 1.x version; install @opentelemetry/api@1, or pass `tracing: false`',
    );
  }
  return api as Api;
}

class OpenTelemetryTracer implements CacheTracer {
  readonly #api: Api;
  readonly #tracer: Tracer;
  readonly #cacheName: string;
  /** This cache's spans still open: a store failure is recorded on the one it happened in. */
  readonly #open = new WeakMap<Span, CacheSpanName>();
  /** What the api's global proxy delegates to while no SDK has registered a provider. */
  readonly #noProvider: TracerProvider;

  constructor(api: Api, cacheName: string) {
    this.#api = api;
    // A proxy until a provider is registered, then that provider's tracer: the SDK may come later.
    this.#tracer = api.trace.getTracer('express-cache-aside');
    this.#cacheName = cacheName;
    this.#noProvider = new api.ProxyTracerProvider().getDelegate();
  }

  /**
   * Whether an SDK may record spans: false only while the api's own proxy still delegates to its no-op
   * provider. The api is often installed with no SDK (a library brought it): then every lookup would
   * start a span that records nothing, for nothing. Asked at every span, since the SDK may come later.
   */
  #mayRecord(): boolean {
    const provider = this.#api.trace.getTracerProvider();
    return (
      !(provider instanceof this.#api.ProxyTracerProvider) || provider.getDelegate() !== this.#noProvider
    );
  }

  span<R>(name: CacheSpanName, key: string | undefined, work: (span: CacheSpan) => Promise<R>): Promise<R> {
    if (!this.#mayRecord()) return work(NOT_RECORDED);
    const parent = this.#api.context.active();
    return this.#run(this.#tracer.startSpan(name, undefined, parent), name, key, parent, work);
  }

  detachedSpan<R>(
    name: CacheSpanName,
    key: string | undefined,
    work: (span: CacheSpan) => Promise<R>,
  ): Promise<R> {
    if (!this.#mayRecord()) return work(NOT_RECORDED);
    const parent = this.#api.context.active();
    const caller = this.#api.trace.getSpanContext(parent);
    const links = caller === undefined ? [] : [{ context: caller }];
    return this.#run(this.#tracer.startSpan(name, { root: true, links }, parent), name, key, parent, work);
  }

  /** A failure the cache absorbed (Redis, decoding): the span it happened in failed, unless it retries. */
  recordFailure(operation: FailureOperation, error: unknown): void {
    const span = this.#api.trace.getSpan(this.#api.context.active());
    const name = span === undefined ? undefined : this.#open.get(span);
    if (span === undefined || name === undefined) return;
    const attributes = { 'cache.operation': operation, 'error.type': errorTypeOf(error) };
    // An invalidation retries: a failed attempt fails it only if the last one fails too (it then rejects).
    if (name === 'cache.invalidate') {
      span.addEvent('cache.attempt_failed', attributes);
      return;
    }
    span.setAttributes(attributes);
    span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: messageOf(error) });
  }

  #run<R>(
    span: Span,
    name: CacheSpanName,
    key: string | undefined,
    parent: Context,
    work: (span: CacheSpan) => Promise<R>,
  ): Promise<R> {
    // Nothing records it (no SDK, or not sampled): no attributes, no context, no bookkeeping.
    if (!span.isRecording()) return work(NOT_RECORDED);
    span.setAttribute('cache.name', this.#cacheName);
    if (key !== undefined) span.setAttribute('cache.key_hash', hashCacheKey(key));
    this.#open.set(span, name);
    const settled = this.#api.context.with(
      this.#api.trace.setSpan(parent, span),
      work,
      undefined,
      new RecordedSpan(span),
    );
    return settled.then(
      (value) => {
        this.#end(span);
        return value;
      },
      (error: unknown) => {
        span.setAttribute('error.type', errorTypeOf(error));
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: messageOf(error) });
        if (error instanceof Error) span.recordException(error);
        this.#end(span);
        throw error;
      },
    );
  }

  #end(span: Span): void {
    this.#open.delete(span);
    span.end();
  }
}

class RecordedSpan implements CacheSpan {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  note<F extends keyof CacheSpanFacts>(fact: F, value: CacheSpanFacts[F]): void {
    this.#span.setAttribute(ATTRIBUTE_OF[fact], value);
  }
}

/** The `error.type` of a failure: its stable code (`E_STORE_TIMEOUT`…) when it has one, else its class name. */
function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : '_OTHER';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { InvalidationKind, LookupResult, RefusedWriteReason } from '../events.js';
import type { LoadCause } from './entry-options.js';

/**
 * The operations the engine traces: a lookup (`get`, `lookup`, `getMany`), a loader run, the write of
 * an entry, an invalidation, and a background refresh of a stale entry.
 */
export type CacheSpanName =
  | 'cache.lookup'
  | 'cache.load'
  | 'cache.write'
  | 'cache.invalidate'
  | 'cache.refresh';

/**
 * Why a value was not written though nothing refused it: there was none (`null`, `undefined`), it is
 * not fresh (a ttl of 0, or older than its ttl already), or the stale entry it renews was replaced.
 */
export type SkippedWriteReason = 'no-value' | 'not-fresh' | 'changed';

/** What a span can tell about its operation, by name; see `observability/open-telemetry-tracer.ts`. */
export interface CacheSpanFacts {
  /**
   * How it ended: `hit`, `miss`, `stale` (lookup); `ok`, `error` (load, refresh), `skipped` (a refresh
   * another instance runs); `stored`, `refused`, `skipped`, `failed` (write); `queued` (an invalidation
   * Redis could not take, queued for replay).
   */
  result: LookupResult | 'ok' | 'error' | 'stored' | 'refused' | 'skipped' | 'failed' | 'queued';
  /** Why a write was refused or skipped. */
  reason: RefusedWriteReason | SkippedWriteReason;
  /** Why a loader ran. */
  cause: LoadCause;
  /** The lookup shared another call's load. */
  coalesced: boolean;
  /** A write that renews a stale entry in place (an HTTP 304). */
  renewal: boolean;
  kind: InvalidationKind;
  /** Entries an invalidation deleted. */
  count: number;
  /** Keys of a `getMany` lookup or of its batch load. */
  keyCount: number;
  /** Keys of a `getMany` lookup that were fresh. */
  hitCount: number;
  /** The route the lookup serves (`EntryOptions.route`). */
  route: string;
}

/** An operation under way, as the engine describes it. Does nothing when no tracing records it. */
export interface CacheSpan {
  note<F extends keyof CacheSpanFacts>(fact: F, value: CacheSpanFacts[F]): void;
}

/**
 * The engine's port to tracing (implemented by `observability/open-telemetry-tracer.ts`): it opens a
 * span around an operation, so that what the operation awaits (a loader, Redis) happens inside it.
 */
export interface CacheTracer {
  /**
   * Runs `work` as the span `name`, a child of the caller's active span (its request, say), ended when
   * `work` settles and marked failed when it rejects. `key`: the full key of the entry concerned, which
   * the span never holds as such (only a hash).
   */
  span<R>(name: CacheSpanName, key: string | undefined, work: (span: CacheSpan) => Promise<R>): Promise<R>;
  /**
   * Like `span`, for work that nobody waits on (a background refresh): the span starts a trace of its
   * own, linked to the caller's active span, so that the caller's trace ends when the caller is done.
   */
  detachedSpan<R>(
    name: CacheSpanName,
    key: string | undefined,
    work: (span: CacheSpan) => Promise<R>,
  ): Promise<R>;
}

const NO_SPAN: CacheSpan = { note: () => undefined };

/** No tracing: the work runs as it is, and nothing is recorded. */
export const NO_TRACING: CacheTracer = {
  span: (_name, _key, work) => work(NO_SPAN),
  detachedSpan: (_name, _key, work) => work(NO_SPAN),
};

import { CacheOptionError } from '../errors.js';
import type { LookupResult } from '../events.js';
import { nonNegativeNumber } from '../option-values.js';
import type { Serializer } from '../serialization/serializer.js';
import { LoadLease } from './load-lease.js';

/**
 * Why a loader runs: there is no usable entry (`miss`); a stale entry waits as the fallback should the
 * load fail or be slow (`stale-fallback`); the stale entry was served already and this load
 * refreshes it, with nobody waiting for it (`background-refresh`); or the cache is in shadow mode, and
 * the loader's value answers whatever the cache holds (`shadow`).
 */
export type LoadCause = 'miss' | 'stale-fallback' | 'background-refresh' | 'shadow';

/**
 * What a loader returns, through `context.revalidated()`, when its source says the stale value is still
 * current (an HTTP `304 Not Modified`).
 */
export class Revalidated<T> {
  /** The value to keep: the stale value, or the stale value with updates (new headers). */
  readonly value: T;

  constructor(value: T) {
    this.value = value;
  }
}

/** What the engine tells a loader about the load it asks for. */
export interface LoadContext<T = unknown> {
  readonly cause: LoadCause;
  /**
   * With cause `stale-fallback` or `background-refresh`: the stale value, which answers should a
   * fallback load fail or be slow.
   */
  readonly stale?: T;
  /**
   * With a stale value: return `context.revalidated()` when the source says it is still current. The
   * entry is then made fresh again in place, its `ttl` counting from now, without writing its value
   * again; pass `revalidated(updated)` to keep the value with changes (written whole if they change
   * its bytes, only freshened if not).
   */
  readonly revalidated?: (updated?: T) => Revalidated<T>;
  /**
   * The lease of this load: pass it as `set`'s `lease` for entries the loader writes itself, so that
   * they are not stored if an invalidation comes after the load began, like the value it returns.
   */
  readonly lease?: LoadLease;
}

/**
 * Produces the value of a key on a miss. `null` and `undefined` are returned but never cached. With a
 * stale value in `context`, it may instead return `context.revalidated()`.
 */
export type Loader<T> = (
  key: string,
  context: LoadContext<T>,
) => T | Revalidated<T> | Promise<T | Revalidated<T>>;

/** Produces the values of the missing keys of `getMany`, in the order of `keys`. */
export type BatchLoader<T> = (keys: string[]) => readonly T[] | Promise<readonly T[]>;

/** Per-call options of `get`, `getMany` and `set`. */
export interface EntryOptions<T> {
  /** Freshness in seconds, or a function of the loaded value; 0 means "do not cache". Default: the cache's `ttl`. */
  ttl?: number | ((value: T) => number | undefined);
  /** Grace period after freshness, in seconds, or a function of the value. Default: the cache's `staleTtl`. */
  staleTtl?: number | ((value: T) => number | undefined);
  /**
   * How old the value already is when stored, in seconds (an HTTP response's `Age`): its reported age
   * (`createdAtMs`) and its freshness (`ttl`) count from then. A value older than its `ttl` is not stored.
   * Default 0.
   */
  age?: (value: T) => number | undefined;
  /** Tags for `invalidateTags`, or a function of the loaded value. */
  tags?: readonly string[] | ((value: T) => readonly string[]);
  /** Serializer for this entry. Default: the cache's. */
  serializer?: Serializer;
  /**
   * With `set` (or a lookup in shadow mode, which may store the loader's value): the `context.lease` of
   * the load that produced the value. The value is then not stored if the key, one of its tags or a
   * pattern matching it was invalidated after the load began.
   */
  lease?: LoadLease;
  /**
   * With `get`, `lookup` and `getMany`: what the call serves, such as an Express route pattern
   * (`'/items/:id'`, never a raw URL), recorded as `http.route` on its `cache.lookup` trace span.
   * `responseCache` sets it.
   */
  route?: string;
  /**
   * The group of keys a load belongs to in logs, or a function of the key that names it (called as the
   * load ends): a failing loader is logged once when its group starts failing and once when it loads
   * again. Keep groups few, like route patterns (`responseCache` groups by route). Default: one group
   * for the whole cache.
   */
  group?: LoadGroup;
}

/** A group name, or a function of the key giving one (see `EntryOptions.group`). */
export type LoadGroup = string | ((key: string) => string | undefined);

/** What `lookup` found, and how. */
export interface LookupOutcome<T> {
  value: T;
  result: LookupResult;
  /** When the served value was loaded (epoch ms); absent when it was loaded for this call. */
  createdAtMs?: number;
  /** Until when the served value is fresh (epoch ms); absent when it was loaded for this call. */
  freshUntilMs?: number;
  /** True when this call shared another call's load (in this process or on another instance). */
  coalesced: boolean;
  /**
   * In shadow mode only (then `value` is the loader's and `result` is `miss`): what the cache would have
   * answered. `lookup` leaves reporting it to its caller; `get`, `getMany` and `responseCache` report
   * it as a `shadow` event.
   */
  shadow?: ShadowVerdict<T>;
}

/** What a cache in shadow mode would have answered, had it been on (and its loader succeeded). */
export interface ShadowVerdict<T> {
  would: LookupResult;
  /** The value it would have answered with (`would` is `hit` or `stale`); `undefined` for a miss. */
  cached: T | undefined;
}

/**
 * The value a loader returned: a `Revalidated` (which only a loader given `context.revalidated` can
 * make) stands for the value it keeps.
 */
export function loadedValue<T>(loaded: T | Revalidated<T>): T {
  return loaded instanceof Revalidated ? loaded.value : loaded;
}

/** Rejects bad per-call options before any work is done (the loader must not run for nothing). */
export function validateEntryOptions<T>(options: EntryOptions<T>): void {
  if (typeof options.ttl !== 'function') nonNegativeNumber(options.ttl, 'ttl', 0);
  if (typeof options.staleTtl !== 'function') nonNegativeNumber(options.staleTtl, 'staleTtl', 0);
  if (options.age !== undefined && typeof options.age !== 'function') {
    throw new CacheOptionError('`age` must be a function of the value giving seconds');
  }
  if (options.route !== undefined && typeof options.route !== 'string') {
    throw new CacheOptionError('`route` must be a string');
  }
  if (options.lease !== undefined && !(options.lease instanceof LoadLease)) {
    throw new CacheOptionError('`lease` must be the `context.lease` a loader was given');
  }
  const { group } = options;
  if (group !== undefined && typeof group !== 'function' && (typeof group !== 'string' || group === '')) {
    throw new CacheOptionError('`group` must be a non-empty string or a function of the key giving one');
  }
  const { tags } = options;
  if (tags === undefined || typeof tags === 'function') return;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string' && tag.length > 0)) {
    throw new CacheOptionError('`tags` must be an array of non-empty strings or a function returning one');
  }
}

/** The group a load of `key` belongs to; `undefined` when there is none (or naming it failed). */
export function groupOfLoad(group: LoadGroup | undefined, key: string): string | undefined {
  if (typeof group !== 'function') return group;
  try {
    return group(key) || undefined;
  } catch {
    // A group only labels log entries: a function that cannot name one must not fail the load.
    return undefined;
  }
}

/** The freshness of a loaded value in seconds; 0 means "do not store". */
export function resolveTtlSeconds<T>(ttl: EntryOptions<T>['ttl'], value: T, fallback: number): number {
  const seconds = typeof ttl === 'function' ? ttl(value) : ttl;
  if (seconds === 0) return 0;
  return seconds === undefined ? fallback : nonNegativeNumber(seconds, 'ttl', fallback);
}

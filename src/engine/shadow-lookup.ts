import type { ShadowMatch } from '../events.js';
import type { Serializer } from '../serialization/serializer.js';
import type { StoredValue } from './entry-codec.js';
import { type EntryIO, encodesAlike } from './entry-io.js';
import { type LookupOutcome, loadedValue, type ShadowVerdict } from './entry-options.js';
import type { LoadCoordinator, LoadRequest } from './load-coordinator.js';

/** What a shadow lookup needs of the cache. */
export interface ShadowParts {
  io: EntryIO;
  loads: Pick<LoadCoordinator, 'timeLoad'>;
  /** Whether the cache, on, would serve a stale entry while it refreshes it. */
  staleWhileRevalidate: boolean;
}

/**
 * What the cache, on, would have answered with `stored` at `nowMs`, its loader succeeding: a fresh
 * entry, a stale one (when it serves stale entries while refreshing them), or the loader's value.
 */
export function wouldAnswer<T>(
  stored: StoredValue<T> | undefined,
  staleWhileRevalidate: boolean,
  nowMs: number,
): ShadowVerdict<T> {
  if (stored === undefined) return { would: 'miss', cached: undefined };
  if (nowMs < stored.freshUntilMs) return { would: 'hit', cached: stored.value };
  if (staleWhileRevalidate && nowMs < stored.staleUntilMs) return { would: 'stale', cached: stored.value };
  return { would: 'miss', cached: undefined };
}

/**
 * A lookup in shadow mode: the entry is read and the loader runs, every time (no load is shared, so each
 * caller gets a fresh value), and its value is what the caller gets. The value is stored as the cache,
 * on, would have stored it: not after a would-be hit, so that the entry ages as it would have, and
 * what a later lookup compares is what the cache would really have served.
 */
export async function shadowLookup<T>(
  parts: ShadowParts,
  request: LoadRequest<T>,
): Promise<LookupOutcome<T>> {
  const { key, entryKey, loader, options, serializer } = request;
  // The lease is read beside the entry (one round trip for both), before the loader reads its source.
  const [found, ownLease] = await Promise.all([
    parts.io.read<T>(entryKey, serializer),
    parts.io.beginLease(),
  ]);
  const stored = found === 'unavailable' ? undefined : found;
  const verdict = wouldAnswer(stored, parts.staleWhileRevalidate, Date.now());
  // A caller that loaded the value under a lease of its own (a response's variant) stores it under that one.
  const lease = options.lease ?? ownLease;
  const value = loadedValue(await parts.loads.timeLoad(key, () => loader(key, { cause: 'shadow', lease })));
  if (verdict.would !== 'hit') await parts.io.write(entryKey, value, { ...options, lease });
  return { value, result: 'miss', coalesced: false, shadow: verdict };
}

/**
 * How the value a shadow lookup would have answered compares with the fresh one, by their serialized
 * bytes. A fresh `null` or `undefined` (the source has nothing now) differs from any cached value.
 */
export function shadowMatch<T>(verdict: ShadowVerdict<T>, fresh: T, serializer: Serializer): ShadowMatch {
  if (verdict.would === 'miss') return 'none';
  if (fresh === null || fresh === undefined) return 'different';
  return encodesAlike(serializer, verdict.cached as T, fresh) ? 'same' : 'different';
}

import type { ShadowVerdict } from '../engine/cache.js';
import type { ShadowMatch } from '../events.js';
import type { CachedEntry, CachedResponse } from './cached-response.js';

/**
 * In shadow mode, how the response the cache would have replayed compares with the handler's: `same`
 * when status and body bytes are equal (headers such as `Date` always differ, so they are left out).
 * `freshStatus` is the status the handler answered with, for a response not kept (not storable, or
 * cut short): a status the stored one does not have is `different` (an item gone, a 404 where a 200 is
 * stored), an equal one is `none`, the body being unknown.
 */
export function responseShadowMatch(
  verdict: ShadowVerdict<CachedEntry | undefined>,
  fresh: CachedResponse | undefined,
  freshStatus: number,
): ShadowMatch {
  const { would, cached } = verdict;
  if (would === 'miss' || cached === undefined) return 'none';
  // A `Vary` record where the handler's response now says otherwise: the route's variants changed.
  if (cached.kind !== 'response') return 'different';
  if (fresh === undefined) return cached.status === freshStatus ? 'none' : 'different';
  return cached.status === fresh.status && cached.body.equals(fresh.body) ? 'same' : 'different';
}

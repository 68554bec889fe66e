import { responseCacheKey } from '../src/index.js';

/**
 * How the product app names things in its cache, in one place: the app builds its keys and tags
 * here, and the driver reads the keys back out of the invalidation announcements it overhears.
 */

/** The `prefix` of both instances' caches. */
export const CACHE_PREFIX = 'soak:';
/** Where every instance announces its invalidations (`<prefix>__ca:invalidations`, see the README). */
export const ANNOUNCEMENT_CHANNEL = `${CACHE_PREFIX}__ca:invalidations`;
/** The `Host` every request carries, so that both instances key the same URL alike. */
export const PUBLIC_HOST = 'products.soak';

/** The key of a product for `cache.lookup` (the `/engine` route), without the prefix. */
export function engineKeyOf(id: string | number): string {
  return `product:${id}`;
}

/** The tags both routes store a product's entries with: one `invalidateTags` reaches both. */
export function tagsOf(id: string | number): string[] {
  return [`product:${id}`];
}

/**
 * Every full key (prefix included, as announcements carry them) the app may store a product under:
 * its `lookup` entry and its `responseCache` entry, whose key the library computes from the URL.
 */
export function productsByCacheKey(products: number): Map<string, number> {
  const byKey = new Map<string, number>();
  for (let id = 1; id <= products; id += 1) {
    byKey.set(CACHE_PREFIX + engineKeyOf(id), id);
    byKey.set(CACHE_PREFIX + responseCacheKey(`http://${PUBLIC_HOST}/http/products/${id}`), id);
  }
  return byKey;
}

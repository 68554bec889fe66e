import type { Cache, InvalidateOptions } from '../../src/engine/cache.js';

/** What a read gave: the version of the value, and how many times this instance's loader has run for the key. */
export interface VersionedRead {
  version: number;
  loads: number;
}

/**
 * One cache instance as the specs of invalidation drive it, whether it lives in this process or in
 * a child process: values are `{ version }`, and every read's loader would return the version the
 * spec passes in, so the answer tells where it came from (the loader, or what was cached before).
 */
export interface VersionedCache {
  read(key: string, version: number, tags?: string[]): Promise<VersionedRead>;
  set(key: string, version: number, tags?: string[]): Promise<void>;
  invalidate(key: string, options?: InvalidateOptions): Promise<boolean | 'queued'>;
  invalidateTags(tags: string[], options?: InvalidateOptions): Promise<number | 'queued'>;
  invalidatePattern(pattern: string, options?: InvalidateOptions): Promise<number | 'queued'>;
  expire(key: string, seconds: number): Promise<boolean>;
}

/** Drives `cache` as a {@link VersionedCache}, counting its loader runs per key. */
export function versionedCache(cache: Cache): VersionedCache {
  const loads = new Map<string, number>();
  return {
    read: async (key, version, tags = []) => {
      const value = await cache.get(
        key,
        async () => {
          loads.set(key, (loads.get(key) ?? 0) + 1);
          return { version };
        },
        { tags },
      );
      return { version: value.version, loads: loads.get(key) ?? 0 };
    },
    set: (key, version, tags = []) => cache.set(key, { version }, { tags }),
    invalidate: (key, options = {}) => cache.invalidate(key, options),
    invalidateTags: (tags, options = {}) => cache.invalidateTags(tags, options),
    invalidatePattern: (pattern, options = {}) => cache.invalidatePattern(pattern, options),
    expire: (key, seconds) => cache.expire(key, seconds),
  };
}

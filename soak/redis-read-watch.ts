import type { Cache } from '../src/index.js';

/** Store operations through which a request reads its entry (the lock is taken together with the read). */
const READS: ReadonlySet<string> = new Set(['get', 'get_many', 'lock_acquire']);

/**
 * Tells, for a request in flight, whether the cache failed to read its entry from Redis (a timeout,
 * a lost connection, an open circuit). A GET refused by the data source is the injected fault; if
 * Redis could not be read for it either, this instance had nothing it could have served.
 */
export class RedisReadWatch {
  readonly #watched = new Map<string, Set<{ failed: boolean }>>();

  constructor(cache: Cache) {
    cache.events.on('failure', ({ operation, key }) => {
      if (key === undefined || !READS.has(operation)) return;
      const entryKey = this.#entryKeyOf(key);
      for (const watch of (entryKey === undefined ? undefined : this.#watched.get(entryKey)) ?? []) {
        watch.failed = true;
      }
    });
  }

  /** Starts watching reads of `entryKey` (prefix included); call the returned function to stop and learn. */
  watch(entryKey: string): () => boolean {
    const watch = { failed: false };
    const watches = this.#watched.get(entryKey) ?? new Set();
    watches.add(watch);
    this.#watched.set(entryKey, watches);
    return () => {
      watches.delete(watch);
      if (watches.size === 0) this.#watched.delete(entryKey);
      return watch.failed;
    };
  }

  /** The entry key a failure names: the key itself, or the one inside a lock key's braces. */
  #entryKeyOf(key: string): string | undefined {
    if (this.#watched.has(key)) return key;
    const inBraces = /\{([^{}]+)\}$/.exec(key)?.[1];
    return inBraces !== undefined && this.#watched.has(inBraces) ? inBraces : undefined;
  }
}

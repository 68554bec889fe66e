import { CacheOptionError } from '../errors.js';
import { escapeGlob } from '../keys/glob-to-regexp.js';
import { sameSlotKey } from '../keys/same-slot-key.js';

const RESERVED = '__ca:';

/**
 * Names every key one cache uses: entries at `prefix + key`, and its own bookkeeping (tag index
 * sets, locks, the invalidation channel) under `prefix + '__ca:'`, which user keys may not enter.
 */
export class KeySpace {
  readonly prefix: string;
  /** Start of every key of the cache's own bookkeeping, which user patterns must not delete. */
  readonly reservedPrefix: string;
  /** Pub/sub channel that carries this cache's invalidations between instances. */
  readonly channel: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.reservedPrefix = prefix + RESERVED;
    this.channel = `${prefix}${RESERVED}invalidations`;
  }

  /** The full key of an entry. Throws for empty keys and for the reserved namespace. */
  entryKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new CacheOptionError(`cache key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    if (key.startsWith(RESERVED)) {
      throw new CacheOptionError(`cache key must not start with the reserved '${RESERVED}'`);
    }
    return this.prefix + key;
  }

  /** The full key of a tag's index set. */
  tagKey(tag: string): string {
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new CacheOptionError(`tag must be a non-empty string, got ${JSON.stringify(tag)}`);
    }
    return `${this.prefix}${RESERVED}tag:${tag}`;
  }

  /**
   * The full key of the stampede lock of an entry. It hashes to the entry's Cluster slot, so that
   * taking the lock and reading the entry is one script (see `sameSlotKey`).
   */
  lockKey(key: string): string {
    return sameSlotKey(`${this.reservedPrefix}lock:`, this.prefix + key);
  }

  /** A Redis glob over full keys for a user pattern, which can never match outside the prefix. */
  entryPattern(pattern: string): string {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new CacheOptionError('invalidatePattern: `pattern` must be a non-empty string');
    }
    return escapeGlob(this.prefix) + pattern;
  }
}

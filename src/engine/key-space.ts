import { CacheOptionError } from '../errors.js';
import { escapeGlob } from '../keys/glob-to-regexp.js';
import { sameSlotKey } from '../keys/same-slot-key.js';

const RESERVED = '__ca:';
const TAG = `${RESERVED}tag:`;

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
    return this.prefix + TAG + tag;
  }

  /** The tag whose index set `tagKey` is; `undefined` for any other key. */
  tagOf(tagKey: string): string | undefined {
    const start = this.prefix + TAG;
    return tagKey.startsWith(start) ? tagKey.slice(start.length) : undefined;
  }

  /** A Redis glob over the full keys of every tag index set. */
  get tagPattern(): string {
    return `${escapeGlob(this.prefix + TAG)}*`;
  }

  /** The key an entry was stored under (`entryKey` undone); `undefined` for keys of other caches. */
  keyOf(entryKey: string): string | undefined {
    return entryKey.startsWith(this.prefix) ? entryKey.slice(this.prefix.length) : undefined;
  }

  /** A Redis glob over the full keys of entries whose key starts with `start` and ends with `end`. */
  framedPattern(start: string, end: string): string {
    return `${escapeGlob(this.prefix + start)}*${escapeGlob(end)}`;
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

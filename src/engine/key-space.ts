import { createHash } from 'node:crypto';
import { CacheOptionError } from '../errors.js';
import { escapeGlob } from '../keys/glob-match.js';
import { sameSlotKey } from '../keys/same-slot-key.js';

const RESERVED = '__ca:';
/**
 * Width of a version's segment in entry keys: hex digits of a hash of the version. Every version has
 * the same width, so that one glob with as many `?` spans all versions and nothing else.
 */
const VERSION_TOKEN_LENGTH = 12;
const NO_KEYS: readonly string[] = Object.freeze([]);

/** A Redis glob over full keys and the start of the keys it must spare (the cache's bookkeeping). */
export interface EntryPattern {
  glob: string;
  exceptPrefix: string | undefined;
}
const TAG = `${RESERVED}tag:`;

/**
 * Names every key one cache uses: entries at `prefix + key`, and its own bookkeeping (tag index
 * sets, locks, the invalidation channel) under `prefix + '__ca:'`, which user keys may not enter.
 *
 * With a `version`, entries live at `prefix + '__ca:v:' + token + ':' + key` instead, `token` a
 * fixed-width hash of the version: no other version, and no unversioned cache, can read them. What
 * spans versions is version-free: tag index sets, the channel, and, per key, one more set that lists
 * the key's entries in every version (see {@link versionIndexKey}).
 */
export class KeySpace {
  readonly prefix: string;
  /** Start of every key of the cache's own bookkeeping, which user patterns must not delete. */
  readonly reservedPrefix: string;
  /** Pub/sub channel that carries this cache's invalidations between instances. */
  readonly channel: string;
  /** The version entries are written and read under; `undefined` when the cache has none. */
  readonly version: string | undefined;
  /** Start of every entry key of this cache: the prefix, and the version segment when there is one. */
  readonly #entryPrefix: string;
  /** Start of every versioned entry key, whatever its version. */
  readonly #versionsRoot: string;

  constructor(prefix: string, version?: string) {
    this.prefix = prefix;
    this.reservedPrefix = prefix + RESERVED;
    this.channel = `${prefix}${RESERVED}invalidations`;
    this.version = version;
    this.#versionsRoot = `${this.reservedPrefix}v:`;
    this.#entryPrefix = version === undefined ? prefix : `${this.#versionsRoot}${versionToken(version)}:`;
  }

  /** The full key of an entry. Throws for empty keys and for the reserved namespace. */
  entryKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new CacheOptionError(`cache key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    if (key.startsWith(RESERVED)) {
      throw new CacheOptionError(`cache key must not start with the reserved '${RESERVED}'`);
    }
    return this.#entryPrefix + key;
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
   * The full key of the set that lists the entries of `key` (a key as the application names it) in
   * every version, written with each of them as a tag index is, so that invalidating the key in every
   * version is one set read and one deletion, never a scan.
   */
  versionIndexKey(key: string): string {
    return `${this.reservedPrefix}versions:${key}`;
  }

  /** The index sets a write of `entryKey` must join besides its tags': none without a version. */
  versionIndexOf(entryKey: string): readonly string[] {
    if (this.version === undefined) return NO_KEYS;
    return [this.versionIndexKey(entryKey.slice(this.#entryPrefix.length))];
  }

  /**
   * The same entry key in this cache's version: how an instance finds its own copy of a key another
   * version invalidated in every version. Keys that are not versioned entries come back unchanged.
   */
  inOwnVersion(entryKey: string): string {
    const root = this.#versionsRoot;
    if (this.version === undefined || !entryKey.startsWith(root)) return entryKey;
    if (entryKey[root.length + VERSION_TOKEN_LENGTH] !== ':') return entryKey;
    return this.#entryPrefix + entryKey.slice(root.length + VERSION_TOKEN_LENGTH + 1);
  }

  /**
   * The full key of the stampede lock of an entry. It hashes to the entry's Cluster slot, so that
   * taking the lock and reading the entry is one script (see `sameSlotKey`).
   */
  lockKey(key: string): string {
    return sameSlotKey(`${this.reservedPrefix}lock:`, this.#entryPrefix + key);
  }

  /**
   * A Redis glob over full keys for a user pattern, which can never match outside the cache's entries:
   * of this version only, or with `allVersions` of every version (a versioned cache only).
   */
  entryPattern(pattern: string, allVersions = false): EntryPattern {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new CacheOptionError('invalidatePattern: `pattern` must be a non-empty string');
    }
    if (this.version === undefined) {
      return { glob: escapeGlob(this.prefix) + pattern, exceptPrefix: this.reservedPrefix };
    }
    // Both globs start with the literal versions root, which no bookkeeping key starts with.
    const start = allVersions
      ? `${escapeGlob(this.#versionsRoot)}${'?'.repeat(VERSION_TOKEN_LENGTH)}:`
      : escapeGlob(this.#entryPrefix);
    return { glob: start + pattern, exceptPrefix: undefined };
  }
}

/** The version's segment: the first 12 hex digits (48 bits) of its SHA-256, so two releases in practice never share one. */
function versionToken(version: string): string {
  return createHash('sha256').update(version, 'utf8').digest('hex').slice(0, VERSION_TOKEN_LENGTH);
}

import { CacheError, CacheOptionError } from '../errors.js';
import { positiveInteger } from '../option-values.js';
import type { Serializer } from '../serialization/serializer.js';
import type { CacheStore, InspectionMethod, KeyScan } from '../store/cache-store.js';
import type { CacheBackend } from './cache-backend.js';
import { decodeValue } from './entry-codec.js';
import type { KeySpace } from './key-space.js';
import type { MemoryTier } from './memory-tier.js';

/** An entry as the store holds it, read for inspection. Times are epoch milliseconds. */
export interface EntryInspection<T> {
  value: T;
  createdAtMs: number;
  /** Until then the entry is fresh. */
  freshUntilMs: number;
  /** Until then a stale entry may still be served (stale-while-revalidate, stale-if-error). */
  staleUntilMs: number;
  /** Bytes of the stored value (the entry's envelope included, its key not). */
  sizeBytes: number;
  /** Remaining lifetime in the store, in seconds (`TTL`): -1 when it never expires, -2 when it just went. */
  storeTtlSeconds: number;
}

/** One page of the keys a tag lists. */
export interface TagMembersPage {
  /** Keys of entries (as given to `get`/`set`, without the prefix), at most `limit` of them. */
  keys: string[];
  /** Where the next page starts; `undefined` when this was the last one. */
  cursor: string | undefined;
}

/** What a bounded search found. */
export interface FoundKeys {
  keys: string[];
  /** Whether every key of the store was looked at: false when the search stopped at its budget or `limit`. */
  complete: boolean;
}

/** Bounds of a search over the store's keys. */
export interface KeySearchOptions {
  /** Most keys to return. Default 100, at most {@link MAX_PAGE_SIZE}. */
  limit?: number;
  /**
   * Most keys to look at, in SCAN steps of 1,000 (a Cluster's masters are walked one after the
   * other, all within this budget). Default 20,000.
   */
  budget?: number;
}

/** The in-process tier: what it holds and its bounds. */
export interface MemoryTierSize {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Largest page of keys one inspection call returns. */
export const MAX_PAGE_SIZE = 1_000;
const DEFAULT_PAGE_SIZE = 100;
const SCAN_COUNT = 1_000;
const DEFAULT_SCAN_BUDGET = 20_000;
/** SSCAN steps per page at most: a hashtable set's step may find nothing, a listpack set's finds all. */
const MAX_TAG_STEPS = 10;

/** What a {@link CacheInspector} needs of its cache. */
export interface CacheInspectorParts {
  keys: KeySpace;
  store: CacheBackend;
  memory: MemoryTier | undefined;
  serializer: Serializer;
}

/**
 * Reads a cache for operators (the admin router): an entry with its times, size and lifetime, the
 * keys a tag lists, page by page, and bounded searches over the store's keys. It reads the store
 * itself, past the in-process tier, and counts no lookup: what it sees is what every instance sees.
 * Every store call is bounded (a page, a budget of keys) and labelled `inspect`; a failing store
 * rejects with its coded `CacheError`, a store without the optional methods with `E_UNSUPPORTED`.
 */
export class CacheInspector {
  readonly #parts: CacheInspectorParts;

  constructor(parts: CacheInspectorParts) {
    this.#parts = parts;
  }

  /**
   * The stored entry of `key`, or `undefined` when there is none. Rejects with `E_DECODE_FAILED`
   * when its bytes are not an entry that `serializer` (default: the cache's) can read.
   */
  async entry<T>(key: string, serializer?: Serializer): Promise<EntryInspection<T> | undefined> {
    const entryKey = this.#parts.keys.entryKey(key);
    const [bytes, storeTtlSeconds] = await Promise.all([
      this.#inspect((store) => store.get(entryKey)),
      this.#inspect((store) => store.ttlSeconds(entryKey)),
    ]);
    if (bytes === undefined) return undefined;
    const stored = decodeValue<T>(serializer ?? this.#parts.serializer, bytes);
    return { ...stored, sizeBytes: bytes.length, storeTtlSeconds };
  }

  /**
   * One page of the keys `tag` lists, at most `limit` (default 100, at most 1,000). Pass the returned
   * `cursor` for the next page, until it is `undefined`. A key listed for the whole walk comes at least
   * once (possibly twice); the index may still list entries that expired or were deleted since.
   */
  async tagMembers(tag: string, page: { limit?: number; cursor?: string } = {}): Promise<TagMembersPage> {
    const tagKey = this.#parts.keys.tagKey(tag);
    const limit = pageSize(page.limit);
    let { scan, after, count } = decodeCursor(page.cursor, limit);
    this.#requireSupport('scanTagMembers');
    const keys: string[] = [];
    for (let step = 0; step < MAX_TAG_STEPS; step++) {
      const stepCount = count;
      const found = await this.#inspect(
        (store) =>
          store.scanTagMembers?.(tagKey, scan, stepCount) ?? Promise.reject(unsupported('scanTagMembers')),
      );
      // One step may list more than the page holds (a small set comes whole). It is sorted, so that the
      // next page runs the same step again (with the same count, over the same part of the set) and
      // resumes after the last key taken; keys added meanwhile may come too, none listed throughout is lost.
      const members = found.items.sort().filter((member) => after === undefined || member > after);
      const room = limit - keys.length;
      if (members.length > room) {
        const taken = members.slice(0, room);
        keys.push(...taken.map((member) => this.#keyOf(member)));
        return { keys, cursor: encodeCursor({ scan, after: taken.at(-1), count: stepCount }) };
      }
      keys.push(...members.map((member) => this.#keyOf(member)));
      if (found.cursor === '0') return { keys, cursor: undefined };
      scan = found.cursor;
      after = undefined;
      count = limit;
      if (keys.length === limit) break;
    }
    return { keys, cursor: encodeCursor({ scan, after: undefined, count }) };
  }

  /**
   * The tags whose index lists `key`, found by walking the tag index sets (bounded by `options`: on a
   * large store the answer may be incomplete, and says so).
   */
  async tagsOf(key: string, options: KeySearchOptions = {}): Promise<FoundKeys> {
    const keys = this.#parts.keys;
    const found = await this.#search(
      { pattern: keys.tagPattern, type: 'set', member: keys.entryKey(key), count: SCAN_COUNT },
      options,
    );
    return { keys: found.keys.flatMap((tagKey) => keys.tagOf(tagKey) ?? []), complete: found.complete };
  }

  /** Keys of entries that start with `start` and end with `end` (bounded by `options`, as `tagsOf`). */
  async findKeys(start: string, end: string, options: KeySearchOptions = {}): Promise<FoundKeys> {
    const keys = this.#parts.keys;
    const found = await this.#search(
      { pattern: keys.framedPattern(start, end), type: 'string', count: SCAN_COUNT },
      options,
    );
    return {
      keys: found.keys
        .filter((entryKey) => !entryKey.startsWith(keys.reservedPrefix))
        .map((entryKey) => this.#keyOf(entryKey)),
      complete: found.complete,
    };
  }

  /** What the in-process tier holds and its bounds; `undefined` without one. */
  memoryTier(): MemoryTierSize | undefined {
    const memory = this.#parts.memory;
    if (memory === undefined) return undefined;
    const { maxEntries, maxBytes, ttlMs } = memory.bounds;
    return { entries: memory.size, bytes: memory.bytes, maxEntries, maxBytes, ttlMs };
  }

  async #search(search: KeyScan, options: KeySearchOptions): Promise<FoundKeys> {
    const limit = pageSize(options.limit);
    const budget = positiveInteger(options.budget, 'budget', DEFAULT_SCAN_BUDGET);
    this.#requireSupport('scanKeys');
    const steps = Math.ceil(budget / SCAN_COUNT);
    // Keys of a Redis SCAN may come twice; a Set keeps each once.
    const found = new Set<string>();
    let cursor = '0';
    for (let step = 0; step < steps; step++) {
      const page = await this.#inspect(
        (store) => store.scanKeys?.(cursor, search) ?? Promise.reject(unsupported('scanKeys')),
      );
      for (const key of page.items) found.add(key);
      cursor = page.cursor;
      if (cursor === '0' || found.size >= limit) break;
    }
    const keys = [...found].sort();
    return { keys: keys.slice(0, limit), complete: cursor === '0' && keys.length <= limit };
  }

  #inspect<T>(task: (store: CacheStore) => Promise<T>): Promise<T> {
    return this.#parts.store.command('inspect', task);
  }

  /** Checked before the first call: a store without the method must not count as a failing store. */
  #requireSupport(method: InspectionMethod): void {
    if (!this.#parts.store.supports(method)) throw unsupported(method);
  }

  #keyOf(entryKey: string): string {
    return this.#parts.keys.keyOf(entryKey) ?? entryKey;
  }
}

function unsupported(method: InspectionMethod): CacheError {
  return new CacheError('E_UNSUPPORTED', `the cache's store cannot be inspected: it has no \`${method}\``);
}

function pageSize(limit: number | undefined): number {
  const size = positiveInteger(limit, 'limit', DEFAULT_PAGE_SIZE);
  if (size > MAX_PAGE_SIZE)
    throw new CacheOptionError(`\`limit\` must be at most ${MAX_PAGE_SIZE}, got ${size}`);
  return size;
}

/** Where a walk over a tag's keys stands: the store's cursor, and within its step the last key taken. */
interface TagCursor {
  scan: string;
  after: string | undefined;
  /** The count the step ran with: run again, it must cover the same part of the set. */
  count: number;
}

function encodeCursor({ scan, after, count }: TagCursor): string {
  const parts = after === undefined ? [scan] : [scan, after, count];
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The walk a page cursor stands for; a fresh walk without one. */
function decodeCursor(cursor: string | undefined, limit: number): TagCursor {
  if (cursor === undefined) return { scan: '0', after: undefined, count: limit };
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (Array.isArray(parts) && parts.length === 1 && typeof parts[0] === 'string') {
    return { scan: parts[0], after: undefined, count: limit };
  }
  if (
    Array.isArray(parts) &&
    parts.length === 3 &&
    typeof parts[0] === 'string' &&
    typeof parts[1] === 'string' &&
    Number.isInteger(parts[2]) &&
    parts[2] > 0 &&
    parts[2] <= MAX_PAGE_SIZE
  ) {
    return { scan: parts[0], after: parts[1], count: parts[2] };
  }
  throw new CacheOptionError('`cursor` must be one that a previous page returned');
}

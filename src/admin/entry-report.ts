import type { CacheInspector, EntryInspection } from '../engine/cache-inspector.js';
import { CacheError } from '../errors.js';
import { KEY_HEAD } from '../http/build-cache-key.js';
import type { CachedEntry, CachedResponse, StoredHeader } from '../http/cached-response.js';
import { parseCacheKey } from '../http/parse-cache-key.js';
import { responseCacheKey } from '../http/response-cache-key.js';
import { responseSerializer } from '../http/response-serializer.js';
import type { EntryTarget } from './admin-query.js';

/** Most variants of one URL that `/entry` lists or purges. */
const MAX_VARIANTS = 100;

/** Times and sizes of a stored entry, as `/entry` reports them (seconds, to the millisecond). */
interface StoredView {
  key: string;
  /** Bytes of the stored value (envelope included). */
  sizeBytes: number;
  storedAt: string;
  freshUntil: string;
  staleUntil: string;
  ageSeconds: number;
  fresh: boolean;
  /** Time left fresh (0 once stale). */
  ttlSeconds: number;
  /** Time left in the stale window after that (stale-while-revalidate, stale-if-error). */
  staleTtlSeconds: number;
  /** Remaining lifetime in Redis (`TTL`): -1 never expires. */
  storeTtlSeconds: number;
}

/** A stored response: status, replayed headers, body size (never the body itself). */
interface ResponseView extends StoredView {
  status: number;
  route: string;
  etag: string | null;
  headers: readonly StoredHeader[];
  bodyBytes: number;
}

/** A stored variant of a URL whose response carried `Vary`: the request headers that select it. */
interface VariantView extends ResponseView {
  requestHeaders: Record<string, string | null>;
}

/** The answer of `GET /entry`. */
export interface EntryReport {
  /** The URL (or custom key) as the key holds it. */
  url: string;
  key: string;
  /** Whether some request to this URL would be answered from the cache now or after revalidation. */
  cached: boolean;
  /** `variants`: the key holds the record of a `Vary`'d response, whose variants are listed. */
  kind: 'response' | 'variants' | 'absent' | 'undecodable';
  response?: ResponseView;
  record?: StoredView & { vary: readonly string[] };
  variants?: VariantView[];
  /** False when the search for variants stopped at its bound: there may be more. */
  variantsComplete?: boolean;
  tags?: string[];
  /** False when the search for tags stopped at its bound: there may be more. */
  tagsComplete?: boolean;
  /** Why an entry that exists could not be read. */
  error?: string;
}

type Inspected = EntryInspection<CachedEntry>;
type Found = Inspected | undefined | 'undecodable';

interface Located {
  key: string;
  found: Found;
}

/** Everything `/entry` can tell about the cached GET of `target`. */
export async function reportEntry(inspector: CacheInspector, target: EntryTarget): Promise<EntryReport> {
  const { key, found } = await locate(inspector, target);
  const url = parseCacheKey(key)?.url ?? target.keyTarget.url ?? target.keyTarget.key ?? key;
  if (found === undefined) return { url, key, cached: false, kind: 'absent' };
  if (found === 'undecodable') {
    return {
      url,
      key,
      cached: false,
      kind: 'undecodable',
      error: 'the stored bytes are not a response entry',
    };
  }
  const tags = await inspector.tagsOf(key);
  const tagged = { tags: tags.keys, tagsComplete: tags.complete };
  const now = Date.now();
  if (found.value.kind === 'response') {
    return {
      url,
      key,
      cached: true,
      kind: 'response',
      response: responseView(key, found, found.value, now),
      ...tagged,
    };
  }
  const record = { ...storedView(key, found, now), vary: found.value.names };
  const variantKeys = await variantsOf(inspector, target, key, found.value.names);
  const reads = await Promise.all(variantKeys.keys.map((variant) => read(inspector, variant)));
  const variants: VariantView[] = [];
  reads.forEach((variant, index) => {
    const variantKey = variantKeys.keys[index] as string;
    if (variant === undefined || variant === 'undecodable' || variant.value.kind !== 'response') return;
    const requestHeaders = parseCacheKey(variantKey)?.headers ?? {};
    variants.push({ ...responseView(variantKey, variant, variant.value, now), requestHeaders });
  });
  return {
    url,
    key,
    cached: variants.length > 0,
    kind: 'variants',
    record,
    variants,
    variantsComplete: variantKeys.complete,
    ...tagged,
  };
}

/**
 * How logs name the entry `target` is about: its absolute URL (or custom key) as the key holds it,
 * with the request headers that select a variant.
 */
export function entryLabel(target: EntryTarget): string {
  const key = responseCacheKey(target.keyTarget);
  const named = parseCacheKey(key)?.url ?? target.keyTarget.url ?? target.keyTarget.key ?? key;
  const headers = Object.entries(target.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
  return headers.length === 0 ? named : `${named} [${headers.join('; ')}]`;
}

/**
 * The keys a purge of `target` deletes: the stored response; for a `Vary`'d one its record and the
 * variants found, or with `header`s only the variant they select. `complete` is false when the
 * bounded search for variants may have missed some (a large keyspace, a hashed key): they then stay.
 */
export async function entryKeysToPurge(
  inspector: CacheInspector,
  target: EntryTarget,
): Promise<{ keys: string[]; complete: boolean }> {
  const { key, found } = await locate(inspector, target);
  if (found === undefined || found === 'undecodable' || found.value.kind === 'response') {
    return { keys: [key], complete: true };
  }
  const variants = await variantsOf(inspector, target, key, found.value.names);
  const keys = target.headers === undefined ? [key, ...variants.keys] : variants.keys;
  return { keys, complete: variants.complete };
}

/**
 * The key of the URL without request headers; with `header`s and nothing there, the key with them
 * (a route whose `varyHeaders` enter its base key).
 */
async function locate(inspector: CacheInspector, target: EntryTarget): Promise<Located> {
  const base = responseCacheKey(target.keyTarget);
  const found = await read(inspector, base);
  if (found !== undefined || target.headers === undefined) return { key: base, found };
  const keyed = responseCacheKey({ ...target.keyTarget, headers: target.headers });
  return { key: keyed, found: await read(inspector, keyed) };
}

/** With `header`s, the one variant they select; else those a bounded search finds. */
async function variantsOf(
  inspector: CacheInspector,
  target: EntryTarget,
  recordKey: string,
  names: readonly string[],
): Promise<{ keys: string[]; complete: boolean }> {
  const { headers } = target;
  if (headers !== undefined) {
    const selected = Object.fromEntries(names.map((name) => [name, headers[name]]));
    return { keys: [responseCacheKey({ ...target.keyTarget, headers: selected })], complete: true };
  }
  const resource = parseCacheKey(recordKey)?.resource;
  // A hashed key (over 512 characters) cannot be told from its variants' keys.
  if (resource === undefined) return { keys: [], complete: false };
  const found = await inspector.findKeys(`${KEY_HEAD};`, `:${resource}`, { limit: MAX_VARIANTS });
  const keys = found.keys.filter((key) => key !== recordKey && parseCacheKey(key)?.resource === resource);
  return { keys, complete: found.complete };
}

async function read(inspector: CacheInspector, key: string): Promise<Found> {
  try {
    return await inspector.entry<CachedEntry>(key, responseSerializer);
  } catch (error) {
    if (error instanceof CacheError && error.code === 'E_DECODE_FAILED') return 'undecodable';
    throw error;
  }
}

function responseView(key: string, stored: Inspected, response: CachedResponse, now: number): ResponseView {
  return {
    ...storedView(key, stored, now),
    status: response.status,
    route: response.route,
    etag: response.etag ?? null,
    headers: response.headers,
    bodyBytes: response.body.length,
  };
}

function storedView(key: string, stored: Inspected, now: number): StoredView {
  const { createdAtMs, freshUntilMs, staleUntilMs } = stored;
  return {
    key,
    sizeBytes: stored.sizeBytes,
    storedAt: new Date(createdAtMs).toISOString(),
    freshUntil: new Date(freshUntilMs).toISOString(),
    staleUntil: new Date(staleUntilMs).toISOString(),
    ageSeconds: seconds(now - createdAtMs),
    fresh: now < freshUntilMs,
    ttlSeconds: seconds(freshUntilMs - now),
    staleTtlSeconds: seconds(staleUntilMs - Math.max(now, freshUntilMs)),
    storeTtlSeconds: stored.storeTtlSeconds,
  };
}

/** Milliseconds as seconds to the millisecond, never negative. */
function seconds(milliseconds: number): number {
  return Math.max(0, Math.round(milliseconds)) / 1000;
}

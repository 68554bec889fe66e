import type { OutgoingHttpHeader, ServerResponse } from 'node:http';
import { CacheOptionError } from '../errors.js';
import { applyWriteHeadArguments, headersArgument } from './capture-response.js';

/**
 * What happens to a response's `Surrogate-Key` and `Cache-Tag` headers once read as tags: removed from
 * what the client receives (`'strip'`), or left on it, and stored and replayed with it, for a CDN in
 * front that reads them too (`'keep'`).
 */
export type SurrogateHeaders = 'strip' | 'keep';

/** The headers whose values are tags, and what separates tags in each. */
const SEPARATORS = {
  // Fastly: keys separated by spaces.
  'surrogate-key': /[ \t]+/,
  // Cloudflare: tags separated by commas, whitespace around them ignored.
  'cache-tag': /[ \t]*,[ \t]*/,
} as const;
type SurrogateHeaderName = keyof typeof SEPARATORS;
const NAMES = Object.keys(SEPARATORS) as SurrogateHeaderName[];

/** Fastly's and Cloudflare's limits: what works with them works here, and no more is written to Redis. */
const MAX_TAG_LENGTH = 1024;
const MAX_HEADER_LENGTH = 16_384;

// A property of the response itself, as `addCacheTags` keeps its tags: the values lived on it until
// they were removed from it, just before its headers went out.
const STRIPPED = Symbol('express-cache-aside stripped surrogate headers');
type Values = Partial<Record<SurrogateHeaderName, OutgoingHttpHeader>>;
type StrippedResponse = ServerResponse & { [STRIPPED]?: Values };

/**
 * Removes `Surrogate-Key` and `Cache-Tag` from `res` right before its headers go out, whoever set them,
 * and keeps their values for {@link surrogateKeysOf}. Install it outside every other wrapper of
 * `writeHead` (last), so that neither a capture nor a withheld response ever sees them.
 */
export function stripSurrogateHeadersWhenHeadersGo(res: ServerResponse): void {
  const originalWriteHead = res.writeHead;
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (this.headersSent) return Reflect.apply(originalWriteHead, this, args);
    // Headers given to `writeHead` itself are set first, so that they are stripped as well.
    const forwarded = headersArgument(args) === undefined ? args : applyWriteHeadArguments(this, args);
    let values: Values | undefined;
    for (const name of NAMES) {
      const value = this.getHeader(name);
      if (value === undefined) continue;
      values ??= {};
      values[name] = value;
      this.removeHeader(name);
    }
    // Nothing stripped (most responses): the response keeps its shape, and reads find no header either.
    if (values !== undefined) Object.defineProperty(this, STRIPPED, { value: values, configurable: true });
    return Reflect.apply(originalWriteHead, this, forwarded);
  } as ServerResponse['writeHead'];
}

/** Removes the surrogate headers from a response about to be replayed (stored or set before the route). */
export function removeSurrogateHeaders(res: ServerResponse): void {
  for (const name of NAMES) res.removeHeader(name);
}

/**
 * The tags that `res`'s `Surrogate-Key` (space-separated) and `Cache-Tag` (comma-separated) headers
 * give, in order, without repeats: as they were when stripped, else as they are. Throws a
 * `CacheOptionError` for a tag over 1,024 characters or a header over 16,384: then the response is not
 * stored, as with a route's `tags` function that fails (dropping the tag instead would store an entry
 * that invalidating it misses).
 */
export function surrogateKeysOf(res: ServerResponse): readonly string[] {
  const stripped = Object.hasOwn(res, STRIPPED) ? (res as StrippedResponse)[STRIPPED] : undefined;
  const tags = new Set<string>();
  for (const name of NAMES) {
    const value = stripped === undefined ? res.getHeader(name) : stripped[name];
    if (value === undefined) continue;
    for (const tag of tagsIn(name, value)) tags.add(tag);
  }
  return [...tags];
}

function tagsIn(name: SurrogateHeaderName, value: OutgoingHttpHeader): string[] {
  const separator = name === 'surrogate-key' ? ' ' : ',';
  const text = Array.isArray(value) ? value.join(separator) : String(value);
  if (text.length > MAX_HEADER_LENGTH) {
    throw new CacheOptionError(
      `responseCache: the response's ${name} header is ${text.length} characters long, over the ${MAX_HEADER_LENGTH} it may have`,
    );
  }
  const tags = text.trim().split(SEPARATORS[name]);
  for (const tag of tags) {
    if (tag.length > MAX_TAG_LENGTH) {
      throw new CacheOptionError(
        `responseCache: a tag of the response's ${name} header is ${tag.length} characters long, over the ${MAX_TAG_LENGTH} a tag may have`,
      );
    }
  }
  return tags.filter((tag) => tag !== '');
}

import type { ServerResponse } from 'node:http';
import { CacheOptionError } from '../errors.js';

const tagsAddedByHandlers = new WeakMap<ServerResponse, string[]>();

/**
 * Adds invalidation tags to the response being cached, from inside the handler (when only the
 * handler knows what the response depends on). Merged with the route's `tags`; ignored when the
 * response is not stored. Throws a `TypeError` for a tag that is not a non-empty string.
 */
export function addCacheTags(res: ServerResponse, ...tags: string[]): void {
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new CacheOptionError(`addCacheTags: tags must be non-empty strings, got ${JSON.stringify(tag)}`);
    }
  }
  const added = tagsAddedByHandlers.get(res);
  if (added === undefined) tagsAddedByHandlers.set(res, tags);
  else added.push(...tags);
}

/** Tags the handler added to `res` with {@link addCacheTags}. */
export function tagsAddedTo(res: ServerResponse): readonly string[] {
  return tagsAddedByHandlers.get(res) ?? [];
}

import type { ServerResponse } from 'node:http';
import { CacheOptionError } from '../errors.js';

// A property of the response itself (not enumerable, and a symbol no other code holds), so that
// the tags live and die with the response and no state is shared between apps of one process.
const HANDLER_TAGS = Symbol('express-cache-aside handler tags');

type TaggedResponse = ServerResponse & { [HANDLER_TAGS]?: string[] };

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
  const tagged = res as TaggedResponse;
  const added = ownTags(tagged);
  if (added === undefined) Object.defineProperty(tagged, HANDLER_TAGS, { value: tags });
  else added.push(...tags);
}

/** Tags the handler added to `res` with {@link addCacheTags}. */
export function tagsAddedTo(res: ServerResponse): readonly string[] {
  return ownTags(res as TaggedResponse) ?? [];
}

/** The response's own tags: an object derived from it (`Object.create(res)`) does not share them. */
function ownTags(res: TaggedResponse): string[] | undefined {
  return Object.hasOwn(res, HANDLER_TAGS) ? res[HANDLER_TAGS] : undefined;
}

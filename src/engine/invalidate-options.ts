import { CacheOptionError } from '../errors.js';
import { describeValue, unknownOptionMessage } from '../option-names.js';

/** Per-call options of `invalidate`, `invalidateTags` and `invalidatePattern`. */
export interface InvalidateOptions {
  /**
   * When Redis cannot be reached and the invalidation is queued for replay (see `invalidationQueue`),
   * resolve to `'queued'` instead of rejecting with `E_INVALIDATION_FAILED`. A call that could not be
   * queued (the queue is full, or off) still rejects. Default false.
   */
  queueOnFailure?: boolean;
  /**
   * With a cache `version` (`invalidate` and `invalidatePattern`): whether the matching entries of
   * every version go (`true`, the default: the data changed for every release) or only those of this
   * cache's version (`false`). Tags always reach every version. Without a `version` there is one set
   * of entries, and it makes no difference.
   */
  allVersions?: boolean;
}

type InvalidateOptionName = keyof InvalidateOptions;

/**
 * Checks the per-call options of an invalidation, allowing the names `method` takes; throws
 * `CacheOptionError` naming what is wrong.
 */
export function validateInvalidateOptions(
  options: unknown,
  method: string,
  allowed: readonly InvalidateOptionName[] = ['queueOnFailure', 'allVersions'],
): InvalidateOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError(`${method}: options must be an object, got ${describeValue(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new CacheOptionError(`${method}: ${unknownOptionMessage(name, allowed)}`);
    }
  }
  for (const name of allowed) {
    const value = (options as InvalidateOptions)[name];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CacheOptionError(`${method}: \`${name}\` must be a boolean, got ${describeValue(value)}`);
    }
  }
  return options as InvalidateOptions;
}

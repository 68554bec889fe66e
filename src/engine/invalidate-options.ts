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
}

/** Checks the per-call options of an invalidation; throws `CacheOptionError` naming what is wrong. */
export function validateInvalidateOptions(options: unknown, method: string): InvalidateOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError(`${method}: options must be an object, got ${describeValue(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (name !== 'queueOnFailure') {
      throw new CacheOptionError(`${method}: ${unknownOptionMessage(name, ['queueOnFailure'])}`);
    }
  }
  const { queueOnFailure } = options as InvalidateOptions;
  if (queueOnFailure !== undefined && typeof queueOnFailure !== 'boolean') {
    throw new CacheOptionError(
      `${method}: \`queueOnFailure\` must be a boolean, got ${describeValue(queueOnFailure)}`,
    );
  }
  return options as InvalidateOptions;
}

/**
 * Stable codes of the errors this package raises; match on `code`, never on `message`.
 * `E_INVALIDATION_FAILED`: an invalidation failed after its retries. Unless the cache's
 * `invalidationQueue` is off or full, it was queued and will be replayed once Redis answers again (its
 * message says which); pass `{ queueOnFailure: true }` to get `'queued'` instead of this error.
 */
export type CacheErrorCode =
  | 'E_INVALID_OPTION'
  | 'E_INVALID_KEY'
  | 'E_STORE_FAILED'
  | 'E_STORE_TIMEOUT'
  | 'E_CIRCUIT_OPEN'
  | 'E_DECODE_FAILED'
  | 'E_INVALIDATION_FAILED'
  | 'E_UNSUPPORTED';

/** An error raised by the cache, with a stable `code` and the underlying `cause` when there is one. */
export class CacheError extends Error {
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
  }
}

/** An invalid option or argument: a `TypeError` (so `instanceof TypeError` holds) that also has a `code`. */
export class CacheOptionError extends TypeError {
  readonly code: CacheErrorCode = 'E_INVALID_OPTION';

  constructor(message: string) {
    super(message);
    this.name = 'CacheOptionError';
  }
}

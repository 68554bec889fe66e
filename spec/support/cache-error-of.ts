import { CacheError } from '../../src/errors.js';

/** The `CacheError` that `run` throws; any other error is rethrown, and returning is a failure. */
export function cacheErrorOf(run: () => unknown): CacheError {
  try {
    run();
  } catch (error) {
    if (error instanceof CacheError) return error;
    throw error;
  }
  throw new Error('expected a CacheError');
}

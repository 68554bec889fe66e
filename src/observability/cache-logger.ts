import { createHash } from 'node:crypto';
import winston, { type Logger } from 'winston';
import type { CacheEvents, FailureOperation } from '../events.js';
import { FailureStreak } from './failure-streak.js';

/**
 * The logger a cache uses when none is given: JSON lines with a timestamp on the console, at
 * `level` (`createCache`'s `logLevel`, default `'warn'`, so a healthy cache says nothing).
 */
export function createDefaultLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { component: 'express-cache-aside' },
    transports: [new winston.transports.Console()],
  });
}

/**
 * Writes structured log entries for the events of one cache (named `cacheName`). Keys appear only
 * as `keyHash`. Levels: a failure that starts a streak is `error` (Redis, encoding) or `warn`
 * (loader, undecodable entry), the rest of the streak is `debug`, and its end is one `info` entry
 * with the number of failures; the circuit opening is `warn`, and so is a route's failing `key` or
 * `credentialKey` (once per route); purges through the admin router are `warn` (with who, what
 * and how many; a failed one `error`); requests are `http`; invalidations `verbose`; lookups, loads
 * and coalescing `debug`.
 */
export function attachCacheLogger(events: CacheEvents, logger: Logger, cacheName: string): void {
  const cache = cacheName;
  const streaks = {
    redis: new FailureStreak(),
    load: new FailureStreak(),
    decode: new FailureStreak(),
    encode: new FailureStreak(),
  };
  const logStreakEnd = (streak: FailureStreak, message: string) => {
    const ended = streak.end();
    if (ended === undefined) return;
    logger.info(message, { cache, failures: ended.failures, durationSeconds: ended.durationSeconds });
  };

  events.on('request', ({ route, method, result, durationSeconds, reason }) => {
    if (!logger.isLevelEnabled('http')) return;
    const entry = { cache, route, method, result, durationMs: toMs(durationSeconds) };
    logger.http('cache request', reason === undefined ? entry : { ...entry, reason });
  });

  events.on('key-error', ({ route, option, error }) => {
    logger.warn(`responseCache: \`${option}\` failed, so requests of this route bypass the cache`, {
      cache,
      route,
      option,
      ...describeError(error),
    });
  });

  events.on('lookup', ({ key, result }) => {
    if (result === 'hit') logStreakEnd(streaks.decode, 'cache entries decode again');
    if (logger.isLevelEnabled('debug')) {
      logger.debug('cache lookup', { cache, keyHash: hashCacheKey(key), result });
    }
  });

  events.on('load', ({ key, durationSeconds, failed, error }) => {
    if (!failed) {
      logStreakEnd(streaks.load, 'loader recovered');
      if (logger.isLevelEnabled('debug')) {
        logger.debug('cache load', { cache, keyHash: hashCacheKey(key), durationMs: toMs(durationSeconds) });
      }
      return;
    }
    const starts = streaks.load.fail();
    const level = starts ? 'warn' : 'debug';
    if (!logger.isLevelEnabled(level)) return;
    logger.log(level, 'loader failed', {
      cache,
      keyHash: hashCacheKey(key),
      durationMs: toMs(durationSeconds),
      failures: streaks.load.failures,
      ...describeError(error),
    });
  });

  events.on('coalesced', ({ key }) => {
    if (logger.isLevelEnabled('debug')) {
      logger.debug('cache load shared', { cache, keyHash: hashCacheKey(key) });
    }
  });

  events.on('store-operation', ({ operation, failed }) => {
    if (failed) return;
    // Any answered call proves Redis is back, even when the failures were only connection errors.
    logStreakEnd(streaks.redis, 'Redis recovered');
    if (operation === 'set') logStreakEnd(streaks.encode, 'values encode again');
  });

  events.on('failure', ({ operation, error, key }) => {
    const { streak, level, message } = classifyFailure(operation, streaks);
    const effectiveLevel = streak.fail() ? level : 'debug';
    if (!logger.isLevelEnabled(effectiveLevel)) return;
    const entry = { cache, operation, failures: streak.failures, ...describeError(error) };
    logger.log(effectiveLevel, message, key === undefined ? entry : { ...entry, keyHash: hashCacheKey(key) });
  });

  events.on('circuit', ({ open }) => {
    if (open) logger.warn('circuit breaker open: Redis is skipped until a probe call succeeds', { cache });
    else logger.info('circuit breaker closed: Redis is used again', { cache });
  });

  events.on('invalidation', ({ kind, count }) => {
    logger.verbose('cache invalidation', { cache, kind, count });
  });

  // A purge is an operator's deliberate act that every instance feels: logged at `warn`, so that the
  // default level (`warn`) keeps the audit trail. `target` is the URL, tag or pattern as given.
  events.on('purge', ({ kind, target, actor, purged }) => {
    logger.warn('cache purge', { cache, kind, target, actor, purged, at: new Date().toISOString() });
  });

  events.on('purge-failed', ({ kind, target, actor, error }) => {
    logger.error('cache purge failed', {
      cache,
      kind,
      target,
      actor,
      at: new Date().toISOString(),
      ...describeError(error),
    });
  });
}

interface Streaks {
  redis: FailureStreak;
  decode: FailureStreak;
  encode: FailureStreak;
}

function classifyFailure(
  operation: FailureOperation,
  streaks: Streaks,
): { streak: FailureStreak; level: 'error' | 'warn'; message: string } {
  if (operation === 'decode') {
    return {
      streak: streaks.decode,
      level: 'warn',
      message: 'undecodable cache entry: treated as a miss and overwritten',
    };
  }
  if (operation === 'encode') {
    return {
      streak: streaks.encode,
      level: 'error',
      message: 'value could not be encoded: it is not cached',
    };
  }
  return {
    streak: streaks.redis,
    level: 'error',
    message: 'Redis call failed: requests are served without the cache until it recovers',
  };
}

function describeError(error: unknown): { error: string; errorCode?: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { error: message, errorCode: code } : { error: message };
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/**
 * A short, stable stand-in for a cache key in logs: keys can hold user data (ids, e-mails, query
 * strings), a hash still lets one correlate entries about the same key. 16 hex characters.
 */
export function hashCacheKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

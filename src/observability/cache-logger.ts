import { createHash } from 'node:crypto';
import winston, { type Logger } from 'winston';
import { CacheError } from '../errors.js';
import type { CacheEvents, FailureOperation } from '../events.js';
import { FailureStreak, GroupedFailureStreaks } from './failure-streak.js';
import { logInvalidationQueue } from './invalidation-queue-log.js';
import { LevelGate } from './level-gate.js';

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

/** Most loader groups whose failures are followed apart; more failing at once share one streak. */
const MAX_FAILING_LOAD_GROUPS = 100;
/** The group of loads that name none (`cache.get` without `group`): the whole cache. */
const WHOLE_CACHE = '';
/** The streak that failing groups beyond {@link MAX_FAILING_LOAD_GROUPS} share. */
const OTHER_GROUPS = '<other groups>';

/**
 * Writes structured log entries for the events of one cache (named `cacheName`). Keys appear only
 * as `keyHash`. Each kind of failure tells one story per incident, at the default `warn` level: the
 * failure that starts a streak is `error` (Redis, encoding) or `warn` (a loader's group, an
 * undecodable entry), the rest of the streak is `debug`, and its end is one `warn` entry with the
 * number of failures and how long it lasted. Loader failures (a throw, a timeout, a handler's 5xx)
 * are followed per group: the route pattern for `responseCache`, the `group` entry option, or the
 * whole cache. The circuit breaker's opening and closing are one `warn` each per outage, and a
 * route's failing `key`, `credentialKey` or `enabled` is `warn` (once per route), and so is every
 * mode switch; purges through the admin router are `warn` (with who, what and how many; a failed
 * one `error`); requests are `http`;
 * invalidations `verbose`; lookups, loads, coalescing and shadow lookups `debug`. The invalidation queue is logged
 * once per outage (`invalidation-queue-log.ts`).
 */
export function attachCacheLogger(events: CacheEvents, logger: Logger, cacheName: string): void {
  const cache = cacheName;
  const levels = new LevelGate(logger);
  const streaks = {
    redis: new FailureStreak(),
    decode: new FailureStreak(),
    encode: new FailureStreak(),
  };
  const loadStreaks = new GroupedFailureStreaks(MAX_FAILING_LOAD_GROUPS, OTHER_GROUPS);
  const logStreakEnd = (streak: FailureStreak, message: string) => {
    const ended = streak.end();
    if (ended === undefined) return;
    logger.warn(message, { cache, failures: ended.failures, durationSeconds: ended.durationSeconds });
  };

  events.on('request', ({ route, method, result, status, durationSeconds, reason }) => {
    if (!levels.enabled('http')) return;
    const entry = { cache, route, method, result, status, durationMs: toMs(durationSeconds) };
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

  events.on('nested-middleware', ({ route }) => {
    logger.warn(
      "responseCache: a request reached a second middleware of this cache, mounted inside the first; it passes requests on, and only the first one's options apply",
      { cache, route },
    );
  });

  events.on('lookup', ({ key, result }) => {
    if (result === 'hit') logStreakEnd(streaks.decode, 'cache entries decode again');
    if (levels.enabled('debug')) {
      logger.debug('cache lookup', { cache, keyHash: hashCacheKey(key), result });
    }
  });

  events.on('load', ({ key, durationSeconds, failed, error, group = WHOLE_CACHE }) => {
    if (!failed) {
      const ended = loadStreaks.end(group);
      if (ended !== undefined) {
        const { failures, durationSeconds: streakSeconds } = ended;
        logger.warn('loader recovered', {
          cache,
          ...groupField(ended.group),
          failures,
          durationSeconds: streakSeconds,
        });
      }
      if (levels.enabled('debug')) {
        logger.debug('cache load', {
          cache,
          ...groupField(group),
          keyHash: hashCacheKey(key),
          durationMs: toMs(durationSeconds),
        });
      }
      return;
    }
    const counted = loadStreaks.fail(group);
    const level = counted.starts ? 'warn' : 'debug';
    if (!levels.enabled(level)) return;
    logger.log(level, 'loader failed', {
      cache,
      ...groupField(counted.group),
      keyHash: hashCacheKey(key),
      durationMs: toMs(durationSeconds),
      failures: counted.failures,
      ...describeError(error),
    });
  });

  events.on('coalesced', ({ key }) => {
    if (levels.enabled('debug')) {
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
    // A call the open circuit skipped starts no streak: the circuit's opening was logged, and on a
    // Cluster calls to the other masters succeed in between, which would end the streak every time.
    const skipped = error instanceof CacheError && error.code === 'E_CIRCUIT_OPEN' && streak.failures === 0;
    const effectiveLevel = !skipped && streak.fail() ? level : 'debug';
    if (!levels.enabled(effectiveLevel)) return;
    const entry = { cache, operation, failures: streak.failures, ...describeError(error) };
    logger.log(effectiveLevel, message, key === undefined ? entry : { ...entry, keyHash: hashCacheKey(key) });
  });

  // Once each per outage: the breaker does not announce a failed probe as another opening.
  events.on('circuit', ({ open, node }) => {
    // One circuit for one Redis; on a Cluster one per master, named by `node`.
    const subject = node === undefined ? ': Redis is' : ` for Redis node ${node}: its slots are`;
    const meta = node === undefined ? { cache } : { cache, node };
    if (open) logger.warn(`circuit breaker open${subject} skipped until a probe call succeeds`, meta);
    else logger.warn(`circuit breaker closed${subject} used again`, meta);
  });

  events.on('invalidation', ({ kind, count }) => {
    logger.verbose('cache invalidation', { cache, kind, count });
  });

  logInvalidationQueue(events, logger, cache);

  // An operator's action, on this instance or another: worth a line at the default level.
  events.on('mode', ({ mode, previous, fromAnotherInstance }) => {
    logger.warn(`cache mode switched to ${mode}`, { cache, mode, previous, fromAnotherInstance });
  });

  events.on('shadow', ({ key, route, would, match }) => {
    if (!levels.enabled('debug')) return;
    const entry = { cache, keyHash: hashCacheKey(key), would, match };
    logger.debug('cache shadow lookup', route === undefined ? entry : { ...entry, route });
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

/** The `group` field of a loader's log entries; none for the loads of the whole cache. */
function groupField(group: string): { group?: string } {
  return group === WHOLE_CACHE ? {} : { group };
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

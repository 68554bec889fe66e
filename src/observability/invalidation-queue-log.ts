import type { Logger } from 'winston';
import type { CacheEvents, InvalidationDropReason } from '../events.js';

/**
 * Logs the invalidation queue of one cache once per outage, not once per invalidation: `warn` when
 * the first invalidation is queued, `info` when the first replay succeeds and when the queue is empty
 * again (with what was replayed and given up), `warn` for the first invalidation given up for each
 * reason (the others at `debug`, counted in the summary).
 */
export function logInvalidationQueue(events: CacheEvents, logger: Logger, cache: string): void {
  let outage:
    | { startedAtMs: number; replayed: number; dropped: Record<InvalidationDropReason, number> }
    | undefined;

  const endIfEmpty = (queueSize: number) => {
    if (outage === undefined || queueSize > 0) return;
    logger.info('invalidation queue empty: this instance reads from Redis again', {
      cache,
      replayed: outage.replayed,
      droppedOverflow: outage.dropped.overflow,
      droppedAge: outage.dropped.age,
      durationSeconds: (Date.now() - outage.startedAtMs) / 1000,
    });
    outage = undefined;
  };

  events.on('invalidation-queued', ({ kind, queueSize }) => {
    if (outage !== undefined) {
      if (logger.isLevelEnabled('debug')) logger.debug('invalidation queued', { cache, kind, queueSize });
      return;
    }
    outage = { startedAtMs: Date.now(), replayed: 0, dropped: { overflow: 0, age: 0 } };
    logger.warn(
      'invalidation could not reach Redis: queued for replay; until the queue is replayed this instance reads nothing from Redis',
      { cache, kind, queueSize },
    );
  });

  events.on('invalidation-replayed', ({ queueSize }) => {
    if (outage === undefined) return;
    if (outage.replayed++ === 0) {
      logger.info('Redis answers again: replaying queued invalidations', { cache, queueSize: queueSize + 1 });
    }
    endIfEmpty(queueSize);
  });

  events.on('invalidation-dropped', ({ kind, reason, queueSize }) => {
    outage ??= { startedAtMs: Date.now(), replayed: 0, dropped: { overflow: 0, age: 0 } };
    const first = outage.dropped[reason]++ === 0;
    const message =
      reason === 'overflow'
        ? 'invalidation not queued: the invalidation queue is full, so it will never be replayed'
        : 'queued invalidation given up after invalidationQueue.maxAgeMs: it will never be replayed';
    const level = first ? 'warn' : 'debug';
    if (logger.isLevelEnabled(level)) logger.log(level, message, { cache, kind, reason, queueSize });
    endIfEmpty(queueSize);
  });
}

import type { FaultRecord, GetRecord, PutRecord } from './soak-records.js';

/** Failed requests, told apart by whether the system under test could have answered them. */
export interface FailureAudit {
  /** Every GET and PUT without its normal answer, whatever the reason. */
  total: number;
  /** Failures the cache or the app is to blame for: the soak passes only with none. */
  failed: (GetRecord | PutRecord)[];
  /**
   * GETs refused while the data source was down, for a product with nothing in the cache: it had
   * been invalidated (or Redis had lost it) and not loaded again before the data source failed. No
   * older copy may be served after an invalidation, so there was nothing to fall back on.
   */
  nothingCachedToServe: number;
  /**
   * GETs refused while the data source was down, by an instance that could not read Redis for them
   * either (its connection was still coming back, or its circuit was still open after an outage):
   * this instance had nothing it could have served.
   */
  redisUnreadable: number;
  /** PUTs refused because the data source was down: the fault itself, reported as such to the client. */
  writesRefusedByDataSource: number;
}

/**
 * Sorts the failed requests. A GET refused by the failing data source is excused only if the
 * records show that no entry could have been there to serve: no HIT or STALE answer for the same
 * product and route began after the last thing that may have removed the entry (a write, a Redis
 * crash or stall) and before the refused GET began. (A MISS proves nothing: its write may have been
 * skipped while a circuit was open.) Any other failure counts.
 */
export function auditFailures(
  gets: readonly GetRecord[],
  puts: readonly PutRecord[],
  faults: readonly FaultRecord[],
  lifetimes: EntryLifetimes,
): FailureAudit {
  const audit: FailureAudit = {
    total: 0,
    failed: [],
    nothingCachedToServe: 0,
    redisUnreadable: 0,
    writesRefusedByDataSource: 0,
  };
  const servedFromCache = cachedAnswersByEntry(gets);
  for (const put of puts) {
    if (put.failure === undefined) continue;
    audit.total += 1;
    if (put.failure === 'data-source') audit.writesRefusedByDataSource += 1;
    else audit.failed.push(put);
  }
  for (const get of gets) {
    if (get.failure === undefined) continue;
    audit.total += 1;
    if (get.failure !== 'data-source') {
      audit.failed.push(get);
      continue;
    }
    if (get.redisReadFailed === true) {
      audit.redisUnreadable += 1;
      continue;
    }
    // A write refused by the data source invalidated nothing: the app invalidates after a write only.
    const writes = puts.filter(
      (put) => put.product === get.product && put.failure !== 'data-source' && put.startMs < get.endMs,
    );
    const before = (kinds: readonly FaultRecord['kind'][]) =>
      faults
        .filter((fault) => kinds.includes(fault.kind) && fault.startMs < get.endMs)
        .map((fault) => fault.endMs);
    // Writes and crashes surely removed the entry, so whatever was served later was stored later and
    // has not expired yet; a stall may have removed it (a write lost while Redis did not answer).
    const lastSureRemovalMs = Math.max(0, ...writes.map((put) => put.endMs), ...before(['redis-kill']));
    const lastRemovalMs = Math.max(lastSureRemovalMs, ...before(['redis-pause']));
    // The tiered instance may answer from memory for a while after Redis lost everything: only
    // its answers begun after that while are evidence of an entry in Redis.
    const evidenceFrom = (earlier: GetRecord) =>
      earlier.instance === lifetimes.tieredInstance ? lastRemovalMs + lifetimes.tierMs : lastRemovalMs;
    const entryExisted =
      get.startMs < lastSureRemovalMs + lifetimes.entryMs &&
      (servedFromCache.get(entryOf(get)) ?? []).some(
        (earlier) => earlier.startMs >= evidenceFrom(earlier) && earlier.endMs <= get.startMs,
      );
    if (entryExisted) audit.failed.push(get);
    else audit.nothingCachedToServe += 1;
  }
  return audit;
}

/** How long what the instances served from may outlive its removal from Redis. */
export interface EntryLifetimes {
  /** `ttl + staleTtl` of the entries in Redis. */
  entryMs: number;
  /** The instance with an in-process tier, and that tier's lifetime. */
  tieredInstance: string;
  tierMs: number;
}

function entryOf(get: GetRecord): string {
  return `${get.route}:${get.product}`;
}

function cachedAnswersByEntry(gets: readonly GetRecord[]): Map<string, GetRecord[]> {
  const byEntry = new Map<string, GetRecord[]>();
  for (const get of gets) {
    if (get.failure !== undefined || (get.cache !== 'HIT' && get.cache !== 'STALE')) continue;
    const list = byEntry.get(entryOf(get)) ?? [];
    list.push(get);
    byEntry.set(entryOf(get), list);
  }
  return byEntry;
}

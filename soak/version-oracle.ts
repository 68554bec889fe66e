import type { GetRecord, PutRecord } from './soak-records.js';
import { type Spread, spreadOf } from './statistics.js';

/** A read that returned a version older than one whose invalidation was acknowledged before it began. */
interface Violation {
  product: number;
  instance: string;
  route: GetRecord['route'];
  cache: string | undefined;
  startMs: number;
  returnedVersion: number;
  /** The newest version acknowledged before the read began. */
  acknowledgedVersion: number;
  /** How long before the read began the first newer version than the one returned was acknowledged. */
  msSinceAck: number;
}

/** What the oracle found. */
export interface OracleVerdict {
  /** GETs that returned a version. */
  readsChecked: number;
  /** Of those, the ones that began after at least one acknowledged write of their product. */
  readsAfterAnAck: number;
  violations: Violation[];
  /** Old reads on the tiered instance that began within `memoryTier.ttlMs` of the acknowledgement. */
  withinTierBound: {
    count: number;
    /** How long after the acknowledgement they began. */
    msSinceAck: Spread;
    /** How many followed a write made through the tiered instance itself (its own copy is dropped at once). */
    afterOwnWrite: number;
  };
  /**
   * Per acknowledged invalidation that the tiered instance still answered old reads after: how long
   * after the acknowledgement the last such read began (the bound the announcement achieves in practice).
   */
  announcementBoundMs: Spread;
}

/** Who may serve an old version for a while, and for how long. */
export interface OracleRules {
  tieredInstance: string;
  tierBoundMs: number;
}

interface Acknowledgement {
  atMs: number;
  version: number;
  instance: string;
}

/**
 * The version oracle. A PUT is acknowledged when its response (200, `acknowledged: true`) reached
 * the driver, so the invalidation had resolved before `atMs`; a GET that began after that, on the
 * driver's clock, must not return an older version. The one allowance is the documented bound of
 * the in-process tier: the tiered instance may answer an old version for up to `tierBoundMs` after the
 * first acknowledgement of a newer one.
 */
export function judgeReads(
  gets: readonly GetRecord[],
  puts: readonly PutRecord[],
  rules: OracleRules,
): OracleVerdict {
  const acksByProduct = acknowledgementsByProduct(puts);
  const violations: Violation[] = [];
  const tierDelays: number[] = [];
  const lastOldReadByInvalidation = new Map<Acknowledgement, number>();
  let readsChecked = 0;
  let readsAfterAnAck = 0;
  let afterOwnWrite = 0;

  for (const get of gets) {
    if (get.version === undefined) continue;
    readsChecked += 1;
    const acks = acksByProduct.get(get.product);
    if (acks === undefined) continue;
    const before = countBefore(acks.list, get.startMs);
    if (before === 0) continue;
    readsAfterAnAck += 1;
    const acknowledgedVersion = acks.newestVersion[before - 1] as number;
    if (get.version >= acknowledgedVersion) continue;
    // The first acknowledgement of a newer version is when the returned one was invalidated at the latest.
    const firstNewer = acks.list.slice(0, before).find((ack) => ack.version > (get.version as number));
    if (firstNewer === undefined) continue;
    const msSinceAck = get.startMs - firstNewer.atMs;
    if (get.instance === rules.tieredInstance && msSinceAck <= rules.tierBoundMs) {
      tierDelays.push(msSinceAck);
      if (firstNewer.instance === rules.tieredInstance) afterOwnWrite += 1;
      lastOldReadByInvalidation.set(
        firstNewer,
        Math.max(lastOldReadByInvalidation.get(firstNewer) ?? 0, msSinceAck),
      );
      continue;
    }
    violations.push({
      product: get.product,
      instance: get.instance,
      route: get.route,
      cache: get.cache,
      startMs: Math.round(get.startMs),
      returnedVersion: get.version,
      acknowledgedVersion,
      msSinceAck: Math.round(msSinceAck * 10) / 10,
    });
  }
  return {
    readsChecked,
    readsAfterAnAck,
    violations,
    withinTierBound: { count: tierDelays.length, msSinceAck: spreadOf(tierDelays), afterOwnWrite },
    announcementBoundMs: spreadOf([...lastOldReadByInvalidation.values()]),
  };
}

/** Acknowledged writes of each product in the order they were acknowledged, with the running newest version. */
function acknowledgementsByProduct(puts: readonly PutRecord[]) {
  const byProduct = new Map<number, { list: Acknowledgement[]; newestVersion: number[] }>();
  const acknowledged = puts
    .filter((put) => put.acknowledged && put.version !== undefined)
    .sort((a, b) => a.endMs - b.endMs);
  for (const put of acknowledged) {
    let acks = byProduct.get(put.product);
    if (acks === undefined) {
      acks = { list: [], newestVersion: [] };
      byProduct.set(put.product, acks);
    }
    const version = put.version as number;
    acks.list.push({ atMs: put.endMs, version, instance: put.instance });
    acks.newestVersion.push(Math.max(version, acks.newestVersion.at(-1) ?? 0));
  }
  return byProduct;
}

/** How many acknowledgements (sorted by time) came strictly before `ms`. */
function countBefore(acks: readonly Acknowledgement[], ms: number): number {
  let low = 0;
  let high = acks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((acks[middle] as Acknowledgement).atMs < ms) low = middle + 1;
    else high = middle;
  }
  return low;
}

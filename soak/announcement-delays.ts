import type { HeardAnnouncement, PutRecord } from './soak-records.js';
import { type Spread, spreadOf } from './statistics.js';

/** How long the invalidations' announcements took to reach another process. */
export interface AnnouncementDelays {
  /** Acknowledged PUTs that reported when they invalidated (all of them, unless run without invalidation). */
  acknowledgedPuts: number;
  /** Of those, the ones whose announcement the driver heard, naming the product's keys. */
  heard: number;
  /** From just before `invalidateTags` was called to the message's arrival: the announcement's whole delay. */
  sinceInvalidationStartedMs: Spread;
  /** How long after `invalidateTags` resolved another process heard it (0 when it heard it before). */
  afterAcknowledgementMs: Spread;
  /**
   * Acknowledged PUTs announced with `keys: []`: their tag named no entry any more (emptied by an earlier
   * or concurrent write, or by a Redis crash), so there was nothing for the others to drop. Matched
   * by instance and time alone, they are counted apart and left out of the delays.
   */
  announcedWithNoKeys: number;
  /** Acknowledged PUTs whose announcement the driver never heard (lost, or its subscriber was reconnecting). */
  notHeard: number;
  /** The first of those, on the run's clock, to set beside the faults. */
  notHeardSamples: { product: number; instance: string; startMs: number; endMs: number }[];
  /** Messages the driver heard on the channel, and those that matched no acknowledged PUT. */
  messages: number;
  messagesMatchingNoPut: number;
  /** The announcements' `origin` of each instance, as learned from the messages. */
  originOfInstance: Record<string, string>;
}

// A publish that timed out while Redis was stalled may still go out when Redis resumes: a PUT's
// message is looked for until this long after its acknowledgement (longer than any injected fault).
const LATE_DELIVERY_MS = 10_000;
// To learn which instance an origin is, only messages that arrived while exactly one PUT of their
// product was invalidating (or had just been acknowledged) are taken as evidence.
const CLEAR_MATCH_MS = 50;
const SAMPLES = 20;

interface Invalidation {
  put: PutRecord;
  startedAtMs: number;
  acknowledgedAtMs: number;
  heardAtMs?: number;
  heardWithNoKeys?: boolean;
}

/**
 * Pairs each acknowledged PUT with the announcement its `invalidateTags` published, as the driver's
 * subscriber heard it. A message belongs to a PUT of the same instance (its `origin`) whose product
 * it names (its keys are the product's cache keys) and which had started invalidating by the time it
 * arrived. When several could fit, it goes to the one that started last: a PUT whose message was lost
 * is then left without one, instead of taking the next PUT's message seconds later.
 */
export function measureAnnouncementDelays(
  puts: readonly PutRecord[],
  heard: readonly HeardAnnouncement[],
  productsByKey: ReadonlyMap<string, number>,
): AnnouncementDelays {
  const invalidations: Invalidation[] = puts
    .filter((put) => put.acknowledged)
    .flatMap((put) =>
      put.invalidationStartedAtMs === undefined || put.acknowledgedAtMs === undefined
        ? []
        : [{ put, startedAtMs: put.invalidationStartedAtMs, acknowledgedAtMs: put.acknowledgedAtMs }],
    )
    .sort((a, b) => a.startedAtMs - b.startedAtMs);
  const messages = [...heard].sort((a, b) => a.receivedAtMs - b.receivedAtMs);
  const productsOf = (message: HeardAnnouncement) =>
    new Set((message.keys ?? []).flatMap((key) => productsByKey.get(key) ?? []));
  const instanceOf = learnInstances(messages, invalidations, productsOf);

  let messagesMatchingNoPut = 0;
  // Messages naming products first, then those with no keys, which can only take what is left.
  for (const message of messages.filter((message) => productsOf(message).size > 0)) {
    const instance = instanceOf.get(message.origin);
    let matched = false;
    for (const product of productsOf(message)) {
      const invalidation = lastStartedUnheard(
        invalidations,
        message.receivedAtMs,
        (candidate) => candidate.put.instance === instance && candidate.put.product === product,
      );
      if (invalidation === undefined) continue;
      invalidation.heardAtMs = message.receivedAtMs;
      matched = true;
    }
    if (!matched) messagesMatchingNoPut += 1;
  }
  for (const message of messages.filter((message) => productsOf(message).size === 0)) {
    const instance = instanceOf.get(message.origin);
    const invalidation =
      message.keys?.length === 0
        ? lastStartedUnheard(
            invalidations,
            message.receivedAtMs,
            (candidate) => candidate.put.instance === instance,
          )
        : undefined;
    if (invalidation === undefined) {
      messagesMatchingNoPut += 1;
      continue;
    }
    invalidation.heardAtMs = message.receivedAtMs;
    invalidation.heardWithNoKeys = true;
  }

  const withKeys = invalidations.filter((one) => one.heardAtMs !== undefined && !one.heardWithNoKeys);
  const notHeard = invalidations.filter((one) => one.heardAtMs === undefined);
  return {
    acknowledgedPuts: invalidations.length,
    heard: withKeys.length,
    sinceInvalidationStartedMs: spreadOf(withKeys.map((one) => (one.heardAtMs as number) - one.startedAtMs)),
    afterAcknowledgementMs: spreadOf(
      withKeys.map((one) => Math.max(0, (one.heardAtMs as number) - one.acknowledgedAtMs)),
    ),
    announcedWithNoKeys: invalidations.filter((one) => one.heardWithNoKeys).length,
    notHeard: notHeard.length,
    notHeardSamples: notHeard.slice(0, SAMPLES).map(({ put }) => ({
      product: put.product,
      instance: put.instance,
      startMs: Math.round(put.startMs),
      endMs: Math.round(put.endMs),
    })),
    messages: messages.length,
    messagesMatchingNoPut,
    originOfInstance: Object.fromEntries([...instanceOf].map(([origin, instance]) => [instance, origin])),
  };
}

/**
 * Which instance each origin is. The cache does not expose its announcement id, so it is learned:
 * a message naming a product while exactly one PUT of that product was under way is a vote for that
 * PUT's instance, and each origin goes to the instance most of its votes name.
 */
function learnInstances(
  messages: readonly HeardAnnouncement[],
  invalidations: readonly Invalidation[],
  productsOf: (message: HeardAnnouncement) => Set<number>,
): Map<string, string> {
  const votes = new Map<string, Map<string, number>>();
  for (const message of messages) {
    const products = productsOf(message);
    if (products.size === 0) continue;
    const candidates = invalidations.filter(
      (one) =>
        products.has(one.put.product) &&
        one.startedAtMs <= message.receivedAtMs &&
        message.receivedAtMs <= one.acknowledgedAtMs + CLEAR_MATCH_MS,
    );
    if (candidates.length !== 1) continue;
    const instance = (candidates[0] as Invalidation).put.instance;
    const ofOrigin = votes.get(message.origin) ?? new Map<string, number>();
    ofOrigin.set(instance, (ofOrigin.get(instance) ?? 0) + 1);
    votes.set(message.origin, ofOrigin);
  }
  const instanceOf = new Map<string, string>();
  for (const [origin, ofOrigin] of votes) {
    const [instance] = [...ofOrigin].sort(([, a], [, b]) => b - a)[0] as [string, number];
    instanceOf.set(origin, instance);
  }
  return instanceOf;
}

/** Of the invalidations not yet heard that `fits` and that a message at `receivedAtMs` may belong to, the one that started last. */
function lastStartedUnheard(
  invalidations: readonly Invalidation[],
  receivedAtMs: number,
  fits: (candidate: Invalidation) => boolean,
): Invalidation | undefined {
  let chosen: Invalidation | undefined;
  for (const candidate of invalidations) {
    // Sorted by start: none further on had started when the message arrived.
    if (candidate.startedAtMs > receivedAtMs) break;
    if (candidate.heardAtMs !== undefined || receivedAtMs > candidate.acknowledgedAtMs + LATE_DELIVERY_MS)
      continue;
    if (fits(candidate)) chosen = candidate;
  }
  return chosen;
}

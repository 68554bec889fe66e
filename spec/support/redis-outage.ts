import { type EventuallyBounds, eventually } from './eventually.js';

/** A Redis that a spec can take down and bring back on the same address. */
export interface RestartableRedis {
  /** Takes Redis down; resolves once it no longer answers. */
  stop(): Promise<void>;
  /** Brings Redis back; resolves once it accepts connections again. */
  start(): Promise<void>;
}

/** When an outage happened, in `performance.now()` milliseconds. */
export interface OutageTimes {
  /** Just before Redis was told to stop. */
  stoppingAtMs: number;
  /** Once it was down. */
  stoppedAtMs: number;
  /** Once it accepted connections again. */
  restartedAtMs: number;
}

/** The steps of an outage: each one optional, in the order they run. */
export interface OutageScenario {
  /** Holds once the outage is observed (a circuit opened, a client is no longer ready). */
  noticed?: (times: Pick<OutageTimes, 'stoppingAtMs' | 'stoppedAtMs'>) => unknown;
  /** Bounds of the wait for `noticed`; its `message` names what was awaited. */
  noticedWithin?: EventuallyBounds;
  /** What the spec does while Redis is down, once the outage was noticed. */
  whileDown?: () => Promise<void>;
  /** Holds once the cache works over Redis again, after the restart. */
  recovered?: (times: OutageTimes) => unknown;
  /** Bounds of the wait for `recovered`; its `message` names what was awaited. */
  recoveredWithin?: EventuallyBounds;
}

/**
 * Stops `redis`, waits until the outage is `noticed`, runs `whileDown`, starts Redis again and
 * waits until the cache `recovered`; answers when each step happened. A condition that never holds
 * fails the spec (see {@link eventually}).
 */
export async function withRedisOutage(
  redis: RestartableRedis,
  scenario: OutageScenario = {},
): Promise<OutageTimes> {
  const stoppingAtMs = performance.now();
  await redis.stop();
  const stoppedAtMs = performance.now();
  const { noticed, recovered } = scenario;
  if (noticed !== undefined) {
    await eventually(() => noticed({ stoppingAtMs, stoppedAtMs }), scenario.noticedWithin);
  }
  await scenario.whileDown?.();
  await redis.start();
  const times = { stoppingAtMs, stoppedAtMs, restartedAtMs: performance.now() };
  if (recovered !== undefined) await eventually(() => recovered(times), scenario.recoveredWithin);
  return times;
}

import { setTimeout as sleep } from 'node:timers/promises';

/** Bounds of {@link pollUntil}: they tell a hang from slowness, never measure speed. */
export interface PollBounds {
  /** Longest time to keep asking, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Most times to ask. Default 1000. */
  maxTries?: number;
  /** Pause between two tries, in milliseconds. Default 5. */
  intervalMs?: number;
}

/**
 * Asks `condition` until it holds; false once `maxTries` tries were made or `timeoutMs` passed,
 * whichever comes first. A condition that throws counts as not holding (a reconnecting client's
 * command may fail until it is back).
 */
export async function pollUntil(
  condition: () => Promise<boolean>,
  bounds: PollBounds = {},
): Promise<boolean> {
  const { timeoutMs = 10_000, maxTries = 1000, intervalMs = 5 } = bounds;
  const deadline = performance.now() + timeoutMs;
  for (let tries = 0; tries < maxTries; tries++) {
    if (await condition().catch(() => false)) return true;
    if (performance.now() >= deadline) return false;
    await sleep(intervalMs);
  }
  return false;
}

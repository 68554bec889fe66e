import { setTimeout as sleep } from 'node:timers/promises';

/** Bounds of {@link eventually}: they tell a hang from slowness, never measure speed. */
export interface EventuallyBounds {
  /** Longest time to keep trying, in milliseconds (real time: `performance.now()`). Default 10 000. */
  timeoutMs?: number;
  /** Most tries, so that the bound holds even while a spec fakes the clock. Default 5 000. */
  maxTries?: number;
  /** Pause between two tries, in milliseconds. Default 5. */
  intervalMs?: number;
  /** What was awaited, for the error when it never happened. */
  message?: string;
}

/**
 * Tries `assertion` until it holds: it returns anything but `false` without throwing. Throws once
 * `maxTries` tries were made or `timeoutMs` passed, whichever comes first, with the last failure as
 * `cause` (and its message appended). An assertion that throws counts as not holding yet (a
 * reconnecting client's command may fail until it is back), so both a predicate and a chai
 * `expect` serve as the assertion.
 */
export async function eventually(
  assertion: () => unknown | Promise<unknown>,
  bounds: EventuallyBounds = {},
): Promise<void> {
  const { timeoutMs = 10_000, maxTries = 5_000, intervalMs = 5, message = 'condition not met' } = bounds;
  const deadline = performance.now() + timeoutMs;
  let lastFailure: unknown;
  for (let tries = 1; ; tries++) {
    try {
      if ((await assertion()) !== false) return;
      lastFailure = undefined;
    } catch (error) {
      lastFailure = error;
    }
    if (tries >= maxTries || performance.now() >= deadline) {
      const last = lastFailure instanceof Error ? `: ${lastFailure.message}` : '';
      throw new Error(`${message} after ${tries} tries in at most ${timeoutMs} ms${last}`, {
        cause: lastFailure,
      });
    }
    await sleep(intervalMs);
  }
}

/**
 * Whether `condition` comes to hold within the bounds of {@link eventually}: for a spec that also
 * asserts something does not happen (`false` then is the expected answer, not a failure).
 */
export async function holdsWithin(
  condition: () => unknown | Promise<unknown>,
  bounds: EventuallyBounds = {},
): Promise<boolean> {
  return eventually(condition, bounds).then(
    () => true,
    () => false,
  );
}

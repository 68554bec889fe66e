/** How a streak of failures ended. */
export interface EndedStreak {
  failures: number;
  durationSeconds: number;
}

/**
 * Consecutive failures of one kind. Only the failure that starts a streak deserves a loud log
 * entry; the rest of the streak is counted and summarised when it ends, so an outage does not
 * write one error per request.
 */
export class FailureStreak {
  #failures = 0;
  #startedAtMs = 0;

  /** Records a failure; true when it starts a new streak. */
  fail(): boolean {
    this.#failures++;
    if (this.#failures > 1) return false;
    this.#startedAtMs = Date.now();
    return true;
  }

  /** Failures in the current streak, 0 when there is none. */
  get failures(): number {
    return this.#failures;
  }

  /** Ends the current streak; `undefined` when there was none. */
  end(): EndedStreak | undefined {
    if (this.#failures === 0) return undefined;
    const ended = { failures: this.#failures, durationSeconds: (Date.now() - this.#startedAtMs) / 1000 };
    this.#failures = 0;
    return ended;
  }
}

/** Where a failure of a {@link GroupedFailureStreaks} was counted. */
export interface GroupFailure {
  /** The group whose streak counted it: its own, or the shared one once too many groups fail. */
  group: string;
  /** Whether it started that streak. */
  starts: boolean;
  /** Failures in that streak so far. */
  failures: number;
}

/**
 * Streaks of one kind of failure, kept apart by group (a loader's route, say), so that one group
 * recovering does not end another's streak. Only groups in a streak are held, and at most
 * `maxGroups` of them: failures of further groups share the streak of `sharedGroup`, which any
 * success of a group not held apart ends.
 */
export class GroupedFailureStreaks {
  readonly #streaks = new Map<string, FailureStreak>();
  readonly #maxGroups: number;
  readonly #sharedGroup: string;

  constructor(maxGroups: number, sharedGroup: string) {
    this.#maxGroups = maxGroups;
    this.#sharedGroup = sharedGroup;
  }

  /** Records a failure of `group`. */
  fail(group: string): GroupFailure {
    const counted =
      this.#streaks.has(group) || this.#streaks.size < this.#maxGroups ? group : this.#sharedGroup;
    let streak = this.#streaks.get(counted);
    if (streak === undefined) {
      streak = new FailureStreak();
      this.#streaks.set(counted, streak);
    }
    const starts = streak.fail();
    return { group: counted, starts, failures: streak.failures };
  }

  /** Ends the streak `group` is counted in; `undefined` when there is none. */
  end(group: string): (EndedStreak & { group: string }) | undefined {
    const counted = this.#streaks.has(group) ? group : this.#sharedGroup;
    const streak = this.#streaks.get(counted);
    if (streak === undefined) return undefined;
    this.#streaks.delete(counted);
    const ended = streak.end() as EndedStreak;
    return { ...ended, group: counted };
  }
}

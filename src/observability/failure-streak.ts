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

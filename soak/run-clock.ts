/** Milliseconds since the run began, monotonic: every record and fault of a run is timed on it. */
export class RunClock {
  readonly #originMs = performance.now();

  now(): number {
    return performance.now() - this.#originMs;
  }
}

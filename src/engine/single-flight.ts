/**
 * Runs at most one task per key at a time in this process: callers that arrive while a task for
 * their key runs share its outcome, result or rejection alike.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /** Number of keys with a task running. */
  get size(): number {
    return this.#running.size;
  }

  /** Whether a task for `key` is running. */
  has(key: string): boolean {
    return this.#running.has(key);
  }

  /**
   * Lets later callers of the keys `isStale` picks start a task of their own; the tasks running go on
   * for those already waiting on them.
   */
  forget(isStale: (key: string) => boolean): void {
    for (const key of this.#running.keys()) if (isStale(key)) this.#running.delete(key);
  }

  /** Joins the task running for `key`, or starts `task` as it. `joined` says which happened. */
  run(key: string, task: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const running = this.#running.get(key);
    if (running !== undefined) return { promise: running, joined: true };
    const promise = task().finally(() => {
      if (this.#running.get(key) === promise) this.#running.delete(key);
    });
    this.#running.set(key, promise);
    return { promise, joined: false };
  }
}

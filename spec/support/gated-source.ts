/**
 * A data source with a version number whose reads can be held open, to replay the cache-aside
 * "stale set" race step by step: a load reads version N, and before it returns, the spec writes
 * version N+1 and invalidates; only then does the load go on to store what it read.
 */
export class GatedSource {
  version = 1;
  reads = 0;
  #held: { taken: () => void; released: Promise<void> } | undefined;

  /**
   * Holds the next read after it took its version. `taken` resolves once it did; the read returns
   * only after `release()`.
   */
  holdNextRead(): { taken: Promise<void>; release: () => void } {
    let release: () => void = () => {};
    let taken: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const takenPromise = new Promise<void>((resolve) => {
      taken = resolve;
    });
    this.#held = { taken, released };
    return { taken: takenPromise, release };
  }

  /** The current version, as a loader or a route handler reads it. */
  async read(): Promise<number> {
    const version = this.version;
    this.reads++;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      held.taken();
      await held.released;
    }
    return version;
  }

  /**
   * The race, step by step: once the `held` read took its version, writes the next version and
   * awaits `acknowledge` (the application's invalidation of it); only then lets the read return.
   */
  async writeWhileHeld(
    held: { taken: Promise<void>; release: () => void },
    acknowledge: () => Promise<unknown>,
  ): Promise<void> {
    await held.taken;
    this.write();
    await acknowledge();
    held.release();
  }

  /** A write that the application acknowledges only after its invalidation: see each spec. */
  write(): number {
    this.version++;
    return this.version;
  }
}

import { hasBraces, keyInSlot, sameSlotKey } from '../keys/same-slot-key.js';

/**
 * Names the keys through which a Redis store refuses stale sets (see `StoreSetOptions.lease`): the
 * cache's invalidation counter, and the stamps that record, for a while, the count at which a key, a
 * tag or a pattern was last invalidated. A stamp shares the Cluster slot of what it stamps, so that
 * one script checks it and writes the entry or the tag index; the pattern stamp is kept once per slot.
 */
export class StampKeys {
  /** The counter: every invalidation takes the next number. */
  readonly generation: string;
  readonly #stamp: string;
  readonly #pattern: string;
  /**
   * Whether the namespace has a hash tag: then all of the cache's keys share one slot (the cache's
   * prefix has that tag) and one pattern stamp.
   */
  readonly inOneSlot: boolean;

  /** `namespace`: the cache's bookkeeping prefix, e.g. `shop:__ca:`. */
  constructor(namespace: string) {
    this.generation = `${namespace}generation`;
    this.#stamp = `${namespace}stamp:`;
    this.#pattern = `${namespace}pattern`;
    this.inOneSlot = hasBraces(namespace);
  }

  /** The stamp of an entry or of a tag index set, by its full key. */
  of(key: string): string {
    return sameSlotKey(this.#stamp, key);
  }

  /** The pattern stamp a write to slot `slot` checks (`undefined`: the store has no slots). */
  pattern(slot: number | undefined): string {
    return slot === undefined || this.inOneSlot ? this.#pattern : keyInSlot(`${this.#pattern}:`, slot);
  }

  /** Every pattern stamp a pattern invalidation sets, given the store's slots. */
  patterns(slots: readonly number[] | undefined): string[] {
    if (slots === undefined || this.inOneSlot) return [this.#pattern];
    return slots.map((slot) => this.pattern(slot));
  }
}

import { keySlot } from '../keys/key-slot.js';

/** Keys that share one Redis Cluster hash slot, with where each sits in the caller's list. */
export interface SlotGroup {
  /** The hash slot (0–16383) of every key of the group. */
  slot: number;
  keys: string[];
  /** `indices[i]` is the position of `keys[i]` in the list given to {@link groupBySlot}. */
  indices: number[];
}

/**
 * Splits keys into groups of one hash slot each, in order of first appearance. A multi-key command
 * (MGET, UNLINK) may only carry keys of one slot on a Redis Cluster: the server answers CROSSSLOT
 * otherwise. Hash tags (`{user:1}:a`) are honoured, as Redis hashes them.
 */
export function groupBySlot(keys: readonly string[]): SlotGroup[] {
  const groups = new Map<number, SlotGroup>();
  keys.forEach((key, index) => {
    const slot = keySlot(key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, { slot, keys: [key], indices: [index] });
    else {
      group.keys.push(key);
      group.indices.push(index);
    }
  });
  return [...groups.values()];
}

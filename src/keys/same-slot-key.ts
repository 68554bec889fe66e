import { keySlot, SLOT_COUNT } from './key-slot.js';

/** Whether `text` holds a brace, which may make Redis hash only part of it (a hash tag). */
export function hasBraces(text: string): boolean {
  return text.includes('{') || text.includes('}');
}

/**
 * A key that starts with `name` and hashes to the Redis Cluster slot of `of`, so that one script can
 * touch both (a script may only touch keys of one slot). `{of}` does it for a key without braces;
 * a key with braces gets the tag of a short string known to hash to its slot. When `name` itself has
 * braces (a cache prefix with a hash tag, see {@link isClusterSafePrefix}), every key of the cache
 * already shares that tag's slot.
 */
export function sameSlotKey(name: string, of: string): string {
  if (hasBraces(name)) return name + of;
  // `{}` is no hash tag at all: an empty key goes the long way too.
  return hasBraces(of) || of === '' ? `${name}{${slotTag(keySlot(of))}}${of}` : `${name}{${of}}`;
}

/** A key that starts with `name` and hashes to `slot`. */
export function keyInSlot(name: string, slot: number): string {
  return `${name}{${slotTag(slot)}}`;
}

/**
 * Whether a cache prefix lets {@link sameSlotKey} work on a Cluster: no braces, or a complete hash tag
 * (`{shop}:`), which puts every key of the cache in one slot. A stray brace would make Redis hash the
 * bookkeeping keys on a tag that crosses into the rest of the key.
 */
export function isClusterSafePrefix(prefix: string): boolean {
  if (!hasBraces(prefix)) return true;
  const open = prefix.indexOf('{');
  const close = prefix.indexOf('}', open + 1);
  return open !== -1 && close > open + 1;
}

let slotTags: string[] | undefined;

/**
 * The shortest base-36 numeral of each slot, found once by counting up (about 170,000 CRC16
 * computations, a few tens of milliseconds) and only when a key with braces or a pattern
 * invalidation on a Cluster needs it.
 */
function slotTag(slot: number): string {
  if (slotTags === undefined) {
    const tags: string[] = new Array(SLOT_COUNT);
    let found = 0;
    for (let n = 0; found < SLOT_COUNT; n++) {
      const tag = n.toString(36);
      const tagSlot = keySlot(tag);
      if (tags[tagSlot] === undefined) {
        tags[tagSlot] = tag;
        found++;
      }
    }
    slotTags = tags;
  }
  return slotTags[slot] as string;
}

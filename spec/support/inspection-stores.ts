import type { CacheStore, KeyScan, ScanPage } from '../../src/store/cache-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/**
 * A `MemoryStore` whose walks go step by step as Redis's do on large keyspaces and sets: each step
 * gives the next `count` items (plus `overshoot`, as a Redis step may give more than asked), its cursor
 * the offset reached. Items added during a walk come at its end, as in a set's insertion order.
 */
export class SteppingStore extends MemoryStore {
  readonly #overshoot: number;

  constructor(overshoot = 0) {
    super();
    this.#overshoot = overshoot;
  }

  override async scanKeys(cursor: string, search: KeyScan): Promise<ScanPage<string>> {
    const all = await super.scanKeys('0', search);
    return step(all.items, cursor, search.count + this.#overshoot);
  }

  override async scanTagMembers(tagKey: string, cursor: string, count: number): Promise<ScanPage<string>> {
    const all = await super.scanTagMembers(tagKey, '0', count);
    return step(all.items, cursor, count + this.#overshoot);
  }
}

function step(items: readonly string[], cursor: string, size: number): ScanPage<string> {
  const from = Number(cursor);
  const to = from + size;
  return { cursor: to >= items.length ? '0' : String(to), items: items.slice(from, to) };
}

/** `store` with every required method and none of those inspection needs (a third party's store). */
export function withoutInspection(store: CacheStore): CacheStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'scanKeys' || property === 'scanTagMembers') return undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

import { expect } from 'chai';
import type { Cache } from '../../../src/engine/cache.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { makeCache, storedEntry } from './make-cache.js';

/** A store whose reads see the data when they start and answer 20 ms later, like a slow Redis reply. */
class ReadsThenWaits extends MemoryStore {
  reads = 0;

  override async get(key: string): Promise<Buffer | undefined> {
    this.reads++;
    const value = await super.get(key);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return value;
  }
}

/** A store whose reads wait, while `closed`, until `open()`: a Redis reply that has not come yet. */
class GatedStore extends MemoryStore {
  reads = 0;
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;

  close(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  open(): void {
    this.#open();
    this.#gate = undefined;
  }

  override async get(key: string): Promise<Buffer | undefined> {
    this.reads++;
    const value = await super.get(key);
    await this.#gate;
    return value;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sleeps until `fromMs` (a `performance.now()` instant), then tells whether it is still before
 * `toMs`: a busy machine can oversleep a short window, and a run that missed it proves nothing.
 */
async function wakeWithin(fromMs: number, toMs: number): Promise<boolean> {
  await sleep(Math.max(0, fromMs - performance.now()));
  return performance.now() < toMs;
}

/**
 * Runs `attempt` (a whole scenario, on fresh objects) until one run reports that its steps fell in
 * their windows, five runs at most; only such a run's assertions count.
 */
async function inTime(attempt: () => Promise<boolean>): Promise<void> {
  for (let run = 0; run < 5; run++) if (await attempt()) return;
  throw new Error('five runs in a row overslept their window: the machine is too busy for this spec');
}

describe('Cache with a memory tier: refilling it from the store', () => {
  const storeReads = (store: ChaosStore) => store.calls.filter((call) => call.method === 'get').length;

  it('lets concurrent misses of the memory tier share one store read and one value', async () => {
    const store = new ChaosStore();
    await store.inner.set('test:k', storedEntry({ n: 1 }), { ttlMs: 60_000 });
    store.delay(20, { only: ['get'] });
    const cache = makeCache({ store, memoryTier: {} });
    const loader = () => ({ n: 2 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => cache.lookup('k', loader)));
    expect(storeReads(store)).to.equal(1);
    expect(outcomes.map((outcome) => outcome.result)).to.deep.equal(['hit', 'hit', 'hit', 'hit', 'hit']);
    expect(new Set(outcomes.map((outcome) => outcome.value)).size).to.equal(1);
    await cache.close();
  });

  it('does not share a read that began before an invalidation with readers after it', async () => {
    const store = new ReadsThenWaits();
    await store.set('test:k', storedEntry({ n: 1 }), { ttlMs: 60_000 });
    const cache = makeCache({ store, memoryTier: {} });
    const before = cache.lookup('k', () => ({ n: 2 }));
    await cache.invalidate('k');
    const after = await cache.lookup('k', () => ({ n: 3 }));
    expect((await before).value).to.deep.equal({ n: 1 });
    expect(after.value).to.deep.equal({ n: 3 });
    expect(store.reads).to.be.at.least(2);
    await cache.close();
  });

  it('reads the store once per lookup without a memory tier', async () => {
    const store = new ChaosStore();
    await store.inner.set('test:k', storedEntry({ n: 1 }), { ttlMs: 60_000 });
    store.delay(20, { only: ['get'] });
    const cache = makeCache({ store });
    const outcomes = await Promise.all(Array.from({ length: 3 }, () => cache.lookup('k', () => ({ n: 2 }))));
    expect(storeReads(store)).to.equal(3);
    expect(new Set(outcomes.map((outcome) => outcome.value)).size).to.equal(3);
    await cache.close();
  });

  describe('ahead of expiry', () => {
    // Tier lifetime 1 s: the last quarter starts 750 ms after the entry was read from the store.
    // The entry is read during the first lookup, between `read.from` and `read.by`; a later lookup is
    // in the last quarter when it starts at least 750 ms after `read.by` and less than 1 s after
    // `read.from`. A run that overslept that window is run again (see `inTime`).
    const tier = { ttlMs: 1000 };
    /** Keeps 5 ms between a window's end and the lookup that must fall in it. */
    const EDGE_MS = 5;

    /**
     * A {@link GatedStore} (open) holding `entry` as `test:k`, and a cache with the tier over it that has
     * just read the entry into memory: `read` holds the instants before and after that first lookup.
     */
    async function entryReadIntoMemory(
      entry: Buffer,
    ): Promise<{ store: GatedStore; cache: Cache; read: { from: number; by: number } }> {
      const store = new GatedStore();
      await store.set('test:k', entry, { ttlMs: 60_000 });
      const cache = makeCache({ store, memoryTier: tier });
      try {
        const from = performance.now();
        await cache.lookup('k', () => ({ n: 0 }));
        return { store, cache, read: { from, by: performance.now() } };
      } catch (error) {
        await cache.close();
        throw error;
      }
    }

    /** Sleeps into the last quarter of the entry's time in memory; false if the machine overslept it. */
    function wakeInLastQuarter(read: { from: number; by: number }): Promise<boolean> {
      return wakeWithin(read.by + 800, read.from + 1000 - EDGE_MS);
    }

    it('re-reads a hot entry in the last quarter of its time in memory, while its hits go on from memory', async () => {
      await inTime(async () => {
        const { store, cache, read } = await entryReadIntoMemory(storedEntry({ n: 1 }));
        try {
          await store.set('test:k', storedEntry({ n: 2 }), { ttlMs: 60_000 });
          store.close();
          if (!(await wakeInLastQuarter(read))) return false;

          const duringReread = await cache.lookup('k', () => ({ n: 0 }));
          const alsoDuringReread = await cache.lookup('k', () => ({ n: 0 }));

          expect([duringReread.result, alsoDuringReread.result]).to.deep.equal(['hit', 'hit']);
          expect(duringReread.value, 'from memory, not waiting for the re-read').to.deep.equal({ n: 1 });
          expect(store.reads, 'one re-read, however many hits').to.equal(2);
          const rereadFrom = performance.now();
          store.open();
          // Past the first lifetime (1 s), before the last quarter of the second: the re-read entry
          // is served from memory, without a store read.
          if (!(await wakeWithin(read.by + 1000 + EDGE_MS, rereadFrom + 750 - EDGE_MS))) return false;
          const afterFirstLifetime = await cache.lookup('k', () => ({ n: 0 }));
          expect(afterFirstLifetime).to.include({ result: 'hit' });
          expect(afterFirstLifetime.value, 'what the re-read found').to.deep.equal({ n: 2 });
          expect(store.reads).to.equal(2);
          return true;
        } finally {
          store.open();
          await cache.close();
        }
      });
    });

    it('lets the entry go from memory when the re-read finds it gone from the store (a lost invalidation)', async () => {
      await inTime(async () => {
        const { store, cache, read } = await entryReadIntoMemory(storedEntry({ n: 1 }));
        try {
          await store.delete(['test:k']);
          if (!(await wakeInLastQuarter(read))) return false;

          expect(await cache.lookup('k', () => ({ n: 2 }))).to.include({ result: 'hit' });
          // The re-read it started answers (the gate is open) within a few microtasks.
          await sleep(20);

          const next = await cache.lookup('k', () => ({ n: 2 }));
          expect(next.result).to.equal('miss');
          expect(next.value).to.deep.equal({ n: 2 });
          return true;
        } finally {
          await cache.close();
        }
      });
    });

    it('does not re-read an entry that goes stale before the end of its time in memory', async () => {
      await inTime(async () => {
        // Fresh for 1 s from `createdBy` (on the Date clock).
        const createdBy = Date.now();
        const { store, cache, read } = await entryReadIntoMemory(storedEntry({ n: 1 }, { ttlSeconds: 1 }));
        try {
          // In the tier's last quarter, and still fresh.
          const freshForMs = createdBy + 1000 - Date.now();
          if (!(await wakeWithin(read.by + 800, performance.now() + freshForMs - EDGE_MS))) return false;

          expect(await cache.lookup('k', () => ({ n: 0 }))).to.include({ result: 'hit' });
          expect(store.reads, 'the store holds the same entry, as close to stale').to.equal(1);
          return true;
        } finally {
          await cache.close();
        }
      });
    });
  });
});

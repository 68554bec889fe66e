import { expect } from 'chai';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { makeCache } from './make-cache.js';

const TIER = { maxEntries: 100, maxBytes: 1_000_000, ttlMs: 60_000 };

describe('the in-process tier holds only what the store holds', () => {
  it('keeps nothing in memory when the store refused the write', async () => {
    const store = new ChaosStore().alwaysThrow(new Error('OOM command not allowed'), { only: ['set'] });
    const cache = makeCache({ store, memoryTier: TIER });
    let loads = 0;
    const loader = async () => ({ version: ++loads });
    expect(await cache.get('user:1', loader)).to.deep.equal({ version: 1 });
    expect(cache.stats().memoryEntries).to.equal(0);
    // Nothing was stored anywhere, so the next read loads again rather than serving a value that no
    // invalidation could reach.
    expect(await cache.get('user:1', loader)).to.deep.equal({ version: 2 });
  });

  it('keeps a written value in memory once the store took it', async () => {
    const cache = makeCache({ store: new ChaosStore(), memoryTier: TIER });
    await cache.get('user:1', async () => ({ version: 1 }));
    expect(cache.stats().memoryEntries).to.equal(1);
  });

  /**
   * Reads `user:1` (version 1 in the store) into a tiered instance, and invalidates `invalidatedKey`
   * after the read has its bytes but before it answers; resolves to what the read gave and how many
   * entries memory then holds.
   */
  async function readCrossedBy(invalidatedKey: string): Promise<{ value: unknown; memoryEntries: number }> {
    const store = new LateAnswerStore();
    const writer = makeCache({ store });
    const reader = makeCache({ store, memoryTier: TIER });
    await writer.set('user:1', { version: 1 });
    store.holdAnswers();
    const reading = reader.get('user:1', async () => ({ version: 0 }));
    await store.answered;
    await reader.invalidate(invalidatedKey);
    store.release();
    return { value: await reading, memoryEntries: reader.stats().memoryEntries };
  }

  it('does not fill memory with a read that began before its key was invalidated', async () => {
    // The read had the old value already: its caller gets it, memory does not keep it.
    expect(await readCrossedBy('user:1')).to.deep.equal({ value: { version: 1 }, memoryEntries: 0 });
  });

  it('still fills memory when another key was invalidated meanwhile', async () => {
    expect(await readCrossedBy('user:2')).to.deep.equal({ value: { version: 1 }, memoryEntries: 1 });
  });

  it('keeps nothing that a read found while the invalidation was on its way to the store', async () => {
    // The deletion reaches the store 50 ms after memory was dropped; a read in between finds the old
    // value there and fills memory with it. Once the invalidation resolves, memory must not have it.
    const store = new ChaosStore().delay(50, { only: ['delete'] });
    const cache = makeCache({ store, memoryTier: TIER });
    await cache.get('user:1', async () => ({ version: 1 }));
    const invalidating = cache.invalidate('user:1');
    expect(await cache.get('user:1', async () => ({ version: 0 }))).to.deep.equal({ version: 1 });
    await invalidating;
    expect(await cache.get('user:1', async () => ({ version: 2 }))).to.deep.equal({ version: 2 });
  });

  it("refuses another cache's lease: its count belongs to another history of invalidations", async () => {
    const store = new MemoryStore();
    const one = makeCache({ store });
    const other = makeCache({ store });
    let foreign: unknown;
    await one.get('k', async (_key, context) => {
      foreign = await other.set('k2', 'v', { lease: context.lease }).catch((error: Error) => error.message);
      return 'v';
    });
    expect(foreign).to.match(/same cache/);
  });
});

/** A store whose `get` reads at once and, while held, answers only when released. */
class LateAnswerStore extends MemoryStore {
  #held: Promise<void> | undefined;
  #release: () => void = () => {};
  #signalRead: () => void = () => {};
  /** Resolves once a held read has read its bytes. */
  answered: Promise<void> = Promise.resolve();

  holdAnswers(): void {
    this.#held = new Promise((resolve) => {
      this.#release = resolve;
    });
    this.answered = new Promise((resolve) => {
      this.#signalRead = resolve;
    });
  }

  release(): void {
    this.#release();
    this.#held = undefined;
  }

  override async get(key: string): Promise<Buffer | undefined> {
    const bytes = await super.get(key);
    const held = this.#held;
    if (held !== undefined) {
      this.#signalRead();
      await held;
    }
    return bytes;
  }
}

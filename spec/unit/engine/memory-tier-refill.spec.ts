import { expect } from 'chai';
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
});

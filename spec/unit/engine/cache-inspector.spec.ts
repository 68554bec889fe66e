import { expect } from 'chai';
import type { Cache } from '../../../src/engine/cache.js';
import { CacheError, CacheOptionError } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { SteppingStore, withoutInspection } from '../../support/inspection-stores.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

/** Every page of a tag's keys, from the first to the one without a cursor. */
async function allPages(cache: Cache, tag: string, limit: number, between?: () => Promise<void>) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await cache.inspector.tagMembers(tag, cursor === undefined ? { limit } : { limit, cursor });
    pages.push(page.keys);
    cursor = page.cursor;
    await between?.();
    expect(pages.length, 'pages').to.be.below(1_000);
  } while (cursor !== undefined);
  return pages;
}

const keysNumbered = (count: number) =>
  Array.from({ length: count }, (_, index) => `item:${String(index).padStart(4, '0')}`);

/** `keys` in a fixed order that is not sorted: a store step lists a set in no particular order. */
const shuffled = (keys: readonly string[]) =>
  keys
    .map((key, index) => ({ key, rank: (index * 7919) % keys.length }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ key }) => key);

describe('cache.inspector', () => {
  describe('entry', () => {
    it('reads an entry with its times, stored size and lifetime in the store', async () => {
      const store = new MemoryStore();
      const cache = makeCache({ store });
      const before = Date.now();
      await cache.set('k', { a: 1 }, { ttl: 30, staleTtl: 60 });
      const found = await cache.inspector.entry<{ a: number }>('k');
      expect(found?.value).to.deep.equal({ a: 1 });
      expect(found?.createdAtMs).to.be.within(before, Date.now());
      expect((found?.freshUntilMs ?? 0) - (found?.createdAtMs ?? 0)).to.equal(30_000);
      expect((found?.staleUntilMs ?? 0) - (found?.freshUntilMs ?? 0)).to.equal(60_000);
      expect(found?.sizeBytes).to.equal((await store.get('test:k'))?.length);
      expect(found?.storeTtlSeconds).to.be.within(89, 90);
    });

    it('answers undefined for a key with no entry', async () => {
      expect(await makeCache().inspector.entry('nothing')).to.equal(undefined);
    });

    it('reads the store past the memory tier, and counts no lookup', async () => {
      const store = new MemoryStore();
      const cache = makeCache({ store, memoryTier: { maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 } });
      await cache.set('k', 'v');
      await store.delete(['test:k']);
      expect(await cache.get('k', () => 'loaded')).to.equal('v');
      const lookups = cache.stats().hits + cache.stats().misses;
      expect(await cache.inspector.entry('k')).to.equal(undefined);
      expect(cache.stats().hits + cache.stats().misses).to.equal(lookups);
    });

    it('rejects with E_DECODE_FAILED for bytes that are not an entry', async () => {
      const store = new MemoryStore();
      const cache = makeCache({ store });
      await store.set('test:raw', Buffer.from('not an entry'), { ttlMs: 60_000 });
      const error = await rejectionOf(cache.inspector.entry('raw'));
      expect((error as CacheError).code).to.equal('E_DECODE_FAILED');
    });

    it('rejects with the coded store failure, reported as an `inspect` failure', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('down'));
      const cache = makeCache({ store, circuitBreakerThreshold: 0 });
      const failures: string[] = [];
      cache.events.on('failure', ({ operation }) => failures.push(operation));
      const error = await rejectionOf(cache.inspector.entry('k'));
      expect(error).to.be.instanceOf(CacheError);
      expect((error as CacheError).code).to.equal('E_STORE_FAILED');
      expect(failures).to.include('inspect');
    });
  });

  describe('tagMembers', () => {
    it('pages a tag listed whole by each store step: pages of `limit`, then no cursor', async () => {
      const cache = makeCache();
      const keys = keysNumbered(250);
      await Promise.all(keys.map((key) => cache.set(key, key, { tags: ['all'] })));
      const pages = await allPages(cache, 'all', 100);
      expect(pages.map((page) => page.length)).to.deep.equal([100, 100, 50]);
      expect(pages.flat()).to.deep.equal(keys);
    });

    it('keeps every page within `limit` when a store step gives more than it was asked', async () => {
      const cache = makeCache({ store: new SteppingStore(7) });
      const keys = keysNumbered(95);
      for (const key of shuffled(keys)) await cache.set(key, key, { tags: ['all'] });
      const pages = await allPages(cache, 'all', 10);
      expect(pages.every((page) => page.length <= 10)).to.equal(true);
      expect([...new Set(pages.flat())].sort()).to.deep.equal(keys);
    });

    it('keeps its place when the next page asks for another limit', async () => {
      const cache = makeCache({ store: new SteppingStore(5) });
      const keys = keysNumbered(40);
      for (const key of shuffled(keys)) await cache.set(key, key, { tags: ['all'] });
      const first = await cache.inspector.tagMembers('all', { limit: 5 });
      const found = [...first.keys];
      let cursor = first.cursor;
      while (cursor !== undefined) {
        const page = await cache.inspector.tagMembers('all', { limit: 20, cursor });
        found.push(...page.keys);
        cursor = page.cursor;
      }
      expect([...new Set(found)].sort()).to.deep.equal(keys);
    });

    it('pages evenly when every store step fills a page exactly', async () => {
      const cache = makeCache({ store: new SteppingStore() });
      const keys = keysNumbered(30);
      await Promise.all(keys.map((key) => cache.set(key, key, { tags: ['all'] })));
      const pages = await allPages(cache, 'all', 10);
      expect(pages.map((page) => page.length)).to.deep.equal([10, 10, 10]);
      expect(pages.flat().sort()).to.deep.equal(keys);
    });

    it('lists every key tagged throughout a walk, while other keys are tagged between pages', async () => {
      const cache = makeCache({ store: new SteppingStore(3) });
      const keys = keysNumbered(60);
      for (const key of shuffled(keys)) await cache.set(key, key, { tags: ['all'] });
      let added = 0;
      const pages = await allPages(cache, 'all', 8, async () => {
        // Sorted before every key already there, and after: both must leave the walk whole.
        await cache.set(`aaa:${added}`, 'x', { tags: ['all'] });
        await cache.set(`zzz:${added++}`, 'x', { tags: ['all'] });
      });
      expect(pages.flat()).to.include.members(keys);
    });

    it('answers one empty page for a tag nobody used', async () => {
      expect(await makeCache().inspector.tagMembers('nobody')).to.deep.equal({ keys: [], cursor: undefined });
    });

    it('refuses a limit out of 1 to 1,000 and a cursor it did not give', async () => {
      const inspector = makeCache().inspector;
      for (const limit of [0, 1_001, 2.5]) {
        expect(await rejectionOf(inspector.tagMembers('t', { limit }))).to.be.instanceOf(CacheOptionError);
      }
      for (const cursor of ['garbage', Buffer.from('[1,2]').toString('base64url'), '']) {
        const error = await rejectionOf(inspector.tagMembers('t', { cursor }));
        expect(error, cursor).to.be.instanceOf(CacheOptionError);
        expect(String(error)).to.include('`cursor`');
      }
    });
  });

  describe('bounded searches', () => {
    it('finds the tags whose index lists a key', async () => {
      const cache = makeCache();
      await cache.set('a', 1, { tags: ['t', 'u'] });
      await cache.set('b', 1, { tags: ['u'] });
      expect(await cache.inspector.tagsOf('a')).to.deep.equal({ keys: ['t', 'u'], complete: true });
      expect(await cache.inspector.tagsOf('c')).to.deep.equal({ keys: [], complete: true });
    });

    it('finds the keys between a start and an end, taken literally, never the bookkeeping', async () => {
      const cache = makeCache();
      for (const key of ['v;a:/x?', 'v;b:/x?', 'v;c:/y?', 'w;a:/x?', 'v;*:/x?']) await cache.set(key, 1);
      await cache.set('v;t:/x?', 1, { tags: ['v;:/x?'] });
      const found = await cache.inspector.findKeys('v;', ':/x?');
      expect(found).to.deep.equal({ keys: ['v;*:/x?', 'v;a:/x?', 'v;b:/x?', 'v;t:/x?'], complete: true });
    });

    it('stops at its budget or its limit, and says the answer may be incomplete', async () => {
      const cache = makeCache({ store: new SteppingStore() });
      await Promise.all(keysNumbered(1_500).map((key) => cache.set(key, 1)));
      const withinBudget = await cache.inspector.findKeys('item:', '', { limit: 1_000, budget: 1_000 });
      expect(withinBudget.keys).to.have.lengthOf(1_000);
      expect(withinBudget.complete).to.equal(false);
      const withinLimit = await cache.inspector.findKeys('item:', '', { limit: 10 });
      expect(withinLimit.keys).to.have.lengthOf(10);
      expect(withinLimit.complete).to.equal(false);
      // Two steps of 1,000 look at every key: the 100 that match are all there is.
      expect(await cache.inspector.findKeys('item:00', '', { budget: 2_000 })).to.deep.equal({
        keys: keysNumbered(100),
        complete: true,
      });
    });

    it('answers E_UNSUPPORTED for a store without the methods, without counting a store failure', async () => {
      const cache = makeCache({ store: withoutInspection(new MemoryStore()) });
      for (const call of [
        () => cache.inspector.tagMembers('t'),
        () => cache.inspector.tagsOf('k'),
        () => cache.inspector.findKeys('a', 'b'),
      ]) {
        expect(((await rejectionOf(call())) as CacheError).code).to.equal('E_UNSUPPORTED');
      }
      expect(cache.stats().errors).to.equal(0);
    });
  });

  it('tells what the memory tier holds and its bounds, or that there is none', async () => {
    expect(makeCache().inspector.memoryTier()).to.equal(undefined);
    const cache = makeCache({ memoryTier: { maxEntries: 10, maxBytes: 10_000, ttlMs: 5_000 } });
    await cache.set('k', 'v');
    await cache.get('k', () => 'loaded');
    expect(cache.inspector.memoryTier()).to.deep.include({
      entries: 1,
      maxEntries: 10,
      maxBytes: 10_000,
      ttlMs: 5_000,
    });
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { CacheError } from '../../../src/errors.js';
import type { CacheEventMap } from '../../../src/events.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { MANY_RUNS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { makeCache } from './make-cache.js';

const ttl = { ttlMs: 60_000 };

describe('Cache invalidation', () => {
  describe('by tag', () => {
    it('deletes every entry stored with any of the tags, and only those', async () => {
      const cache = makeCache();
      await cache.set('item:1', 'one', { tags: ['item:1', 'items'] });
      await cache.set('item:2', 'two', { tags: ['item:2', 'items'] });
      await cache.set('list', 'list', { tags: ['item:1', 'item:2'] });
      await cache.set('other', 'other', { tags: ['other'] });

      expect(await cache.invalidateTags(['item:1'])).to.equal(2);

      const loader = sinon.stub().resolves('reloaded');
      expect(await cache.get('item:1', loader)).to.equal('reloaded');
      expect(await cache.get('list', loader)).to.equal('reloaded');
      expect(await cache.get('item:2', loader)).to.equal('two');
      expect(await cache.get('other', loader)).to.equal('other');
      expect(loader.callCount).to.equal(2);
    });

    it('tags a loaded value with tags computed from it', async () => {
      const cache = makeCache();
      await cache.get('user:1', () => ({ id: 1, team: 'red' }), { tags: (user) => [`team:${user.team}`] });
      expect(await cache.invalidateTags(['team:red'])).to.equal(1);
      expect(await cache.invalidateTags(['team:red'])).to.equal(0);
    });

    it('keeps tags of different caches on one store apart', async () => {
      const store = new MemoryStore();
      const shop = makeCache({ store, prefix: 'shop:' });
      const blog = makeCache({ store, prefix: 'blog:' });
      await shop.set('a', 'shop a', { tags: ['t'] });
      await blog.set('a', 'blog a', { tags: ['t'] });
      expect(await shop.invalidateTags(['t'])).to.equal(1);
      expect(await blog.get('a', () => 'reloaded')).to.equal('blog a');
    });

    it('answers 0 for a tag nobody used', async () => {
      expect(await makeCache().invalidateTags(['unused'])).to.equal(0);
    });

    it('rejects an empty tag', async () => {
      expect(await rejectionOf(makeCache().invalidateTags(['']))).to.be.instanceOf(TypeError);
    });

    it("emits an 'invalidation' event with the kind and the count", async () => {
      const cache = makeCache();
      const seen: CacheEventMap['invalidation'][0][] = [];
      cache.events.on('invalidation', (event) => seen.push(event));
      await cache.set('a', 'A', { tags: ['t'] });
      await cache.invalidateTags(['t']);
      await cache.invalidate('missing');
      await cache.invalidatePattern('*');
      expect(seen).to.deep.equal([
        { kind: 'tag', count: 1 },
        { kind: 'key', count: 0 },
        { kind: 'pattern', count: 0 },
      ]);
    });
  });

  describe('by pattern', () => {
    it('deletes the entries whose key matches, and answers how many', async () => {
      const cache = makeCache();
      for (const key of ['user:1', 'user:2', 'user:10', 'product:1']) await cache.set(key, key);
      expect(await cache.invalidatePattern('user:?')).to.equal(2);
      expect(await cache.invalidatePattern('user:*')).to.equal(1);
      expect(await cache.get('product:1', () => 'reloaded')).to.equal('product:1');
    });

    it('never reaches keys outside the prefix', async () => {
      const store = new MemoryStore();
      await store.set('other:user:1', Buffer.from('foreign'), ttl);
      await store.set('user:1', Buffer.from('foreign'), ttl);
      const cache = makeCache({ store, prefix: 'a:' });
      const neighbour = makeCache({ store, prefix: 'ab:' });
      await cache.set('user:1', 'mine');
      await neighbour.set('user:1', 'neighbour');

      expect(await cache.invalidatePattern('*')).to.equal(1);

      expect(await store.get('other:user:1')).to.not.equal(undefined);
      expect(await store.get('user:1')).to.not.equal(undefined);
      expect(await neighbour.get('user:1', () => 'reloaded')).to.equal('neighbour');
    });

    for (const [prefix, neighbourPrefix] of [
      ['a*:', 'ab:'],
      ['a?:', 'ab:'],
      ['[ab]:', 'a:'],
      ['a\\:', 'a\\\\:'],
    ]) {
      it(`treats glob characters in the prefix ${JSON.stringify(prefix)} literally`, async () => {
        const store = new MemoryStore();
        const cache = makeCache({ store, prefix });
        const neighbour = makeCache({ store, prefix: neighbourPrefix });
        await cache.set('k', 'mine');
        await neighbour.set('k', 'neighbour');
        expect(await cache.invalidatePattern('*')).to.equal(1);
        expect(await neighbour.get('k', () => 'reloaded')).to.equal('neighbour');
      });
    }

    it('spares every key that does not start with the prefix, whatever the prefix and pattern', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({
            minLength: 1,
            maxLength: 4,
            unit: fc.constantFrom('a', 'b', ':', '*', '?', '[', ']', '\\', '^'),
          }),
          fc.array(
            fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', ':', '*', '[', ']') }),
            {
              maxLength: 8,
            },
          ),
          fc.constantFrom('*', '?*', '*a*', '[ab]*', '\\**'),
          async (prefix, foreignKeys, pattern) => {
            const store = new MemoryStore();
            const foreign = foreignKeys.filter((key) => !key.startsWith(prefix));
            for (const key of foreign) await store.set(key, Buffer.from('x'), ttl);
            await makeCache({ store, prefix }).invalidatePattern(pattern);
            const survivors = await store.getMany(foreign);
            expect(survivors.every((value) => value !== undefined)).to.equal(true);
          },
        ),
        { numRuns: 200 },
      );
    }).timeout(MANY_RUNS_TIMEOUT_MS);

    it('rejects an empty pattern', async () => {
      expect(await rejectionOf(makeCache().invalidatePattern(''))).to.be.instanceOf(TypeError);
    });
  });

  describe('when the store cannot be reached', () => {
    it('rejects with E_INVALIDATION_FAILED after retrying, so the caller knows stale data may remain', async () => {
      const chaos = new ChaosStore().alwaysThrow(new Error('ECONNREFUSED'));
      const cache = makeCache({
        store: chaos,
        invalidationAttempts: 3,
        invalidationBackoffMs: 0,
        circuitBreakerThreshold: 0,
      });
      for (const invalidation of [
        cache.invalidate('k'),
        cache.invalidateTags(['t']),
        cache.invalidatePattern('user:*'),
      ]) {
        const error = await rejectionOf(invalidation);
        expect(error).to.be.instanceOf(CacheError);
        expect((error as CacheError).code).to.equal('E_INVALIDATION_FAILED');
        expect(((error as CacheError).cause as CacheError).cause).to.have.property('message', 'ECONNREFUSED');
      }
      expect(chaos.callsTo('delete')).to.have.lengthOf(3);
      expect(chaos.callsTo('deleteTagged')).to.have.lengthOf(3);
      expect(chaos.callsTo('deleteMatching')).to.have.lengthOf(3);
    });

    it('succeeds when a retry gets through', async () => {
      const inner = new MemoryStore();
      const chaos = new ChaosStore(inner);
      const cache = makeCache({ store: chaos, invalidationAttempts: 3, invalidationBackoffMs: 0 });
      await cache.set('k', 'value');
      chaos.failNext(2);
      expect(await cache.invalidate('k')).to.equal(true);
      expect(await inner.get('test:k')).to.equal(undefined);
    });
  });
});

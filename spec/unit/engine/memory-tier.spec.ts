import { expect } from 'chai';
import { MemoryTier } from '../../../src/engine/memory-tier.js';

const NOW = 1_000_000;

function fresh(value: unknown, freshForMs = 60_000, now = NOW) {
  return { value, createdAtMs: now, freshUntilMs: now + freshForMs, staleUntilMs: now + freshForMs };
}

describe('MemoryTier', () => {
  it('serves an entry only while it is fresh', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 1024, ttlMs: 60_000 });
    tier.set('k', fresh('v', 500), 10, NOW);
    expect(tier.get('k', NOW + 499)?.value).to.equal('v');
    expect(tier.get('k', NOW + 500)).to.equal(undefined);
  });

  it('does not hold an entry that is no longer fresh', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 1024, ttlMs: 60_000 });
    tier.set('k', fresh('v', 0), 10, NOW);
    expect(tier.size).to.equal(0);
  });

  it('keeps entries at most its own lifetime, however long they stay fresh in Redis', async () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 1024, ttlMs: 20 });
    tier.set('k', fresh('v', 60_000, Date.now()), 10, Date.now());
    expect(tier.get('k', Date.now())?.value).to.equal('v');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(tier.get('k', Date.now())).to.equal(undefined);
  });

  it('stays within its byte bound by evicting the least recently used entries', () => {
    const tier = new MemoryTier({ maxEntries: 1000, maxBytes: 1000, ttlMs: 60_000 });
    for (let i = 0; i < 50; i++) tier.set(`key:${i}`, fresh(i), 95, NOW);
    expect(tier.bytes).to.be.at.most(1000);
    expect(tier.size).to.be.at.most(10);
    expect(tier.get('key:49', NOW)?.value).to.equal(49);
    expect(tier.get('key:0', NOW)).to.equal(undefined);
  });

  it('stays within its entry bound', () => {
    const tier = new MemoryTier({ maxEntries: 3, maxBytes: 1_000_000, ttlMs: 60_000 });
    for (let i = 0; i < 10; i++) tier.set(`key:${i}`, fresh(i), 1, NOW);
    expect(tier.size).to.equal(3);
  });

  it('drops listed keys and keys matching a Redis glob', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 });
    for (const key of ['p:user:1', 'p:user:2', 'p:item:1', 'p:item:2']) tier.set(key, fresh(key), 1, NOW);
    tier.delete(['p:item:2']);
    tier.deleteMatching('p:user:*');
    expect(tier.get('p:item:1', NOW)?.value).to.equal('p:item:1');
    expect(tier.size).to.equal(1);
    tier.clear();
    expect(tier.size).to.equal(0);
  });

  it('refuses a fill whose key was invalidated while it was on its way, and only that one', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000 });
    const user = tier.beginFill('p:user:1');
    const item = tier.beginFill('p:item:1');
    const listed = tier.beginFill('p:list:1');
    tier.delete(['p:user:1']);
    tier.deleteMatching('p:list:*');
    tier.set('p:user:1', fresh('old'), 1, NOW, user);
    tier.set('p:item:1', fresh('item'), 1, NOW, item);
    tier.set('p:list:1', fresh('list'), 1, NOW, listed);
    expect(tier.get('p:user:1', NOW)).to.equal(undefined);
    expect(tier.get('p:list:1', NOW)).to.equal(undefined);
    expect(tier.get('p:item:1', NOW)?.value).to.equal('item');
    tier.set('p:user:1', fresh('new'), 1, NOW, tier.beginFill('p:user:1'));
    expect(tier.get('p:user:1', NOW)?.value).to.equal('new');
  });
});

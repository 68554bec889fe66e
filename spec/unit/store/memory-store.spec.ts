import { expect } from 'chai';
import { describeStoreContract } from 'express-cache-aside/testing';
import { MemoryStore } from '../../../src/store/memory-store.js';

describeStoreContract(
  { describe, it, beforeEach, afterEach },
  {
    name: 'MemoryStore',
    create: () => ({ store: new MemoryStore() }),
    capabilities: [
      'readLease',
      'renew',
      'acquireLockAndGet',
      'acquireLockAndGetWithLease',
      'setAndReleaseLock',
      'scanKeys',
      'scanTagMembers',
    ],
  },
);

describe('MemoryStore', () => {
  const ttl = { ttlMs: 60_000 };

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await store.set('a', Buffer.from('1'), ttl);
    await store.set('b', Buffer.from('2'), ttl);
    await store.get('a');
    await store.set('c', Buffer.from('3'), ttl);
    expect(await store.getMany(['a', 'b', 'c'])).to.deep.equal([
      Buffer.from('1'),
      undefined,
      Buffer.from('3'),
    ]);
    expect(store.size).to.equal(2);
  });

  it('keeps the bytes held (keys plus values) within maxBytes', async () => {
    const store = new MemoryStore({ maxBytes: 100 });
    for (let index = 0; index < 10; index++) {
      await store.set(`key:${index}`, Buffer.alloc(30), ttl);
    }
    expect(store.bytes).to.be.at.most(100);
    expect(store.bytes).to.equal(store.size * (30 + 'key:0'.length));
    expect(await store.get('key:9')).to.not.equal(undefined);
  });

  it('clear() drops entries, tag indexes and locks', async () => {
    const store = new MemoryStore();
    await store.set('a', Buffer.from('1'), { ttlMs: 60_000, tagKeys: ['tag:t'] });
    await store.acquireLock('lock', 'token', 60_000);
    store.clear();
    expect(store.size).to.equal(0);
    await store.set('a', Buffer.from('1'), ttl);
    expect((await store.deleteTagged(['tag:t'])).deleted).to.equal(0);
    expect(await store.acquireLock('lock', 'other', 60_000)).to.equal(true);
  });
});

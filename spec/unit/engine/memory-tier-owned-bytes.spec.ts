import { expect } from 'chai';
import type { Serializer } from '../../../src/serialization/serializer.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { makeCache, storedEntry } from './make-cache.js';

/** Keeps the value as a view into the bytes it is given, as the response serializer keeps a body. */
const viewSerializer: Serializer = {
  name: 'view',
  serialize: (value) => Buffer.from(value as Buffer),
  deserialize: (bytes) => bytes,
};

const SOCKET_CHUNK_BYTES = 64 * 1024;

/** A store whose replies are views into a larger buffer, as node-redis cuts them out of a socket chunk. */
class ChunkedReplies extends MemoryStore {
  override async get(key: string): Promise<Buffer | undefined> {
    const value = await super.get(key);
    if (value === undefined) return undefined;
    const chunk = Buffer.alloc(SOCKET_CHUNK_BYTES);
    value.copy(chunk, 100);
    return chunk.subarray(100, 100 + value.length);
  }
}

describe('MemoryTier filled from the store', () => {
  it('holds an entry in memory of its own, not as a view into the chunk the reply came in', async () => {
    const store = new ChunkedReplies();
    const entry = storedEntry(Buffer.from('body'), { serializer: viewSerializer });
    await store.set('test:k', entry, { ttlMs: 60_000 });
    const cache = makeCache({ store, serializer: viewSerializer, memoryTier: {} });
    try {
      const value = await cache.get('k', () => Buffer.from('loaded'));
      const held = await cache.get('k', () => Buffer.from('loaded'));
      expect(held).to.equal(value);
      expect((held as Buffer).toString()).to.equal('body');
      // A view into the reply's chunk would keep all 64 KiB of it alive while memory holds the entry.
      expect((held as Buffer).buffer.byteLength).to.equal(entry.length);
    } finally {
      await cache.close();
    }
  });
});

import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { type Cache, type CacheOptions, createCache, MemoryStore } from '../../../src/index.js';
import type { StoreSetOptions, StoreWriteResult } from '../../../src/store/cache-store.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

/** A memory store that counts reads (round trips) and remembers every write. */
export class RecordingStore extends MemoryStore {
  reads = 0;
  readonly writes: { key: string; bytes: number; options: StoreSetOptions }[] = [];

  override async get(key: string): Promise<Buffer | undefined> {
    this.reads++;
    return super.get(key);
  }

  override async set(key: string, value: Buffer, options: StoreSetOptions): Promise<StoreWriteResult> {
    this.writes.push({ key, bytes: value.length, options });
    return super.set(key, value, options);
  }
}

/** A cache over a fresh recording memory store, without metrics; `requests` collects `request` events. */
export function createTestCache(options: Omit<CacheOptions, 'store' | 'redis'> = {}): {
  cache: Cache;
  store: RecordingStore;
  requests: CacheEventMap['request'][0][];
} {
  const store = new RecordingStore();
  // Failures the specs provoke on purpose would otherwise be logged to the console.
  const cache = createCache({ store, registry: false, logger: silentLogger, ...options });
  const requests: CacheEventMap['request'][0][] = [];
  cache.events.on('request', (event) => requests.push(event));
  return { cache, store, requests };
}

/** supertest parser that keeps the body as raw bytes, whatever its content type. */
export function rawBytes(response: unknown, callback: (error: Error | null, body: Buffer) => void): void {
  const stream = response as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** A GET of `path` from `app` (on its one port for this test, see `served`) with `headers` set. */
export async function getFrom(
  app: RequestListener,
  path: string,
  headers: Record<string, string> = {},
): Promise<request.Response> {
  return request(await served(app))
    .get(path)
    .set(headers);
}

/** {@link getFrom}, keeping the body as raw bytes whatever its content type. */
export async function getBytesFrom(
  app: RequestListener,
  path: string,
  headers: Record<string, string> = {},
): Promise<request.Response & { body: Buffer }> {
  return request(await served(app))
    .get(path)
    .set(headers)
    .buffer(true)
    .parse(rawBytes);
}

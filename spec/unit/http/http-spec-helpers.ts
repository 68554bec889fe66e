import type { RequestListener } from 'node:http';
import sinon from 'sinon';
import request from 'supertest';
import type { CacheEventMap } from '../../../src/events.js';
import { type Cache, type CacheOptions, createCache, MemoryStore } from '../../../src/index.js';
import type { StoreSetOptions, StoreWriteResult } from '../../../src/store/cache-store.js';
import { createFixtureApp, type FixtureApp } from '../../support/app-factory.js';
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

/** The `X-Cache` header of a GET of `path` from `app` (see {@link getFrom}). */
export async function xCacheOf(app: RequestListener, path: string): Promise<unknown> {
  return (await getFrom(app, path)).headers['x-cache'];
}

/** The fixture app, its items tagged `item:<id>`, with `/api/items/1` and `/api/items/2` stored. */
export async function appWithTaggedItems(cache: Cache): Promise<FixtureApp> {
  const fixture = createFixtureApp({
    cache,
    routeOptions: { item: { tags: (req) => [`item:${String(req.params.id)}`] } },
  });
  await getFrom(fixture.app, '/api/items/1');
  await getFrom(fixture.app, '/api/items/2');
  return fixture;
}

/**
 * Fakes `Date` alone (timers stay real), from the real time, in each test of the enclosing `describe`,
 * and restores sinon after each.
 */
export function fakeDateInEachTest(): Pick<sinon.SinonFakeTimers, 'tick' | 'restore'> {
  let clock: sinon.SinonFakeTimers | undefined;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
  });
  afterEach(() => sinon.restore());
  const current = (): sinon.SinonFakeTimers => {
    if (clock === undefined) throw new Error('the fake Date exists only while a test runs');
    return clock;
  };
  return { tick: (time) => current().tick(time), restore: () => current().restore() };
}

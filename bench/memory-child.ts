import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { ITEM_COUNT, ITEM_ROUTE, itemBody, itemPath, slowHandler } from './fixture-route.js';
import type { HeapFootprint, MemoryChildMessage, RedisFootprint, RedisKeyKind } from './memory-footprint.js';
import { loadThisCheckout } from './variants/ours.js';
import { ENTRY_TTL_SECONDS } from './variants/variant.js';

// A child of `memory-footprint.ts`, run with `--expose-gc`:
// `memory-child <redis|heap> <redis-url> <entries>`. Fills a cache with distinct 2 KiB responses
// through HTTP, as `ours-redis` / `ours-memory` store them, and reports what they take.

type Redis = Awaited<ReturnType<typeof connect>>;
const connect = (url: string) => createClient({ url }).connect();

/**
 * Entries written before the baseline is taken: the code they get compiled, the scripts they load
 * and the pools they warm are not per entry. In the heap, code objects (optimised code, its deopt data
 * and relocation info) still grew by about 2 MB over the 10,000 measured entries after a warm-up of
 * 1,000 (heap snapshots compared, December 2026); after 5,000 they no longer do.
 */
const WARM_UP_ENTRIES = { redis: 100, heap: 5000 } as const;
const CONCURRENCY = 16;
const SETTLE_TIMEOUT_MS = 20_000;
/**
 * Options of both caches besides those of the variants: a shared machine may stall redis-server
 * for longer than the default 200 ms, and a write skipped for it would be an entry missing here.
 */
const PATIENT = { redisTimeoutMs: 5000 } as const;

/** Distinct URLs, ids cycling over the fixture (so every body is one of its 2 KiB items). */
function fillPath(index: number): string {
  return `${itemPath(index % ITEM_COUNT)}?fill=${index}&now=1`;
}

/** Requests `fillPath(from)` … `fillPath(to - 1)`, `CONCURRENCY` at a time, and checks each body. */
async function fill(port: number, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const index = next++;
      const response = await fetch(`http://127.0.0.1:${port}${fillPath(index)}`);
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200 || !body.equals(itemBody(index % ITEM_COUNT)))
        throw new Error(`GET ${fillPath(index)} answered ${response.status} with other bytes`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Bytes of the bodies of entries `from` … `to - 1`: the payload the entries store. */
function payloadBytes(from: number, to: number): number {
  let sum = 0;
  for (let index = from; index < to; index++) sum += itemBody(index % ITEM_COUNT).length;
  return sum;
}

async function listen(app: express.Express): Promise<Server> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

/** Polls `done` every 20 ms until it holds, for at most {@link SETTLE_TIMEOUT_MS}. */
async function settle(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`memory: ${what} did not settle`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits until `count` holds still for 200 ms: the store writes (and tier fills) that follow the
 * responses are done.
 */
async function countSettled(what: string, count: () => Promise<number> | number): Promise<number> {
  let last = -1;
  let still = 0;
  await settle(what, async () => {
    const now = await count();
    still = now === last ? still + 1 : 0;
    last = now;
    return still >= 10;
  });
  return last;
}

/** A key with its digit runs replaced by `#`: the keys one kind of write makes, whatever the entry. */
function kindOf(key: string): string {
  return key.replace(/[0-9]+/g, '#');
}

async function measureRedis(redisUrl: string, entries: number): Promise<RedisFootprint> {
  const { createCache, responseCache } = await loadThisCheckout();
  const redis = await connect(redisUrl);
  const admin = await connect(redisUrl);
  const cache = createCache({
    redis,
    prefix: 'bench:',
    ttl: ENTRY_TTL_SECONDS,
    registry: new Registry(),
    ...PATIENT,
  });
  const app = express();
  // One tag per entry, of its own, as a route tagging each response with its item would.
  const tagOf = (url: string) => `item:${/[?&]fill=([0-9]+)/.exec(url)?.[1]}`;
  app.get(ITEM_ROUTE, responseCache(cache, { tags: (req) => [tagOf(req.originalUrl)] }), slowHandler);
  const server = await listen(app);
  const port = (server.address() as AddressInfo).port;
  try {
    await admin.flushAll();
    const from = WARM_UP_ENTRIES.redis;
    await fill(port, 0, from);
    await countSettled('the store writes', () => admin.dbSize());
    const usedBefore = usedMemory(await admin.info('memory'));
    await fill(port, from, from + entries);
    await countSettled('the store writes', () => admin.dbSize());
    const usedAfter = usedMemory(await admin.info('memory'));
    // The keys of the first measured entry (its URL and its tag end in its number) are the samples.
    const kinds = await keyKinds(admin, new RegExp(`[=:]${from}(?:&|$)`));
    const entryKind = kinds.find((kind) => kind.type === 'string' && kind.count >= entries);
    // A write the store skipped would leave fewer entries than responses, and a figure per entry too low.
    if (entryKind === undefined || entryKind.count < from + entries)
      throw new Error(`Redis holds ${entryKind?.count ?? 0} entries after ${from + entries} responses`);
    const sampleValue = await admin.strLen(entryKind.sampleKey);
    return {
      entries,
      storedEntries: from + entries,
      payloadBytes: payloadBytes(from, from + entries) / entries,
      usedMemoryDelta: usedAfter - usedBefore,
      kinds,
      sampleEntryValueBytes: sampleValue,
      sampleEntryBodyBytes: itemBody(from % ITEM_COUNT).length,
      redisVersion: /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown',
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await cache.close();
    redis.destroy();
    admin.destroy();
  }
}

/**
 * `used_memory` less the clients' buffers (`mem_clients_normal`), from one `INFO memory` reply: the
 * query and reply buffers of the connections grow and shrink with the traffic of the moment (they
 * shrank by about 20 bytes per entry over a fill), which is no entry's memory.
 */
function usedMemory(info: string): number {
  const used = /used_memory:(\d+)/.exec(info)?.[1];
  const clients = /mem_clients_normal:(\d+)/.exec(info)?.[1];
  if (used === undefined || clients === undefined)
    throw new Error('INFO memory has no used_memory or mem_clients_normal');
  return Number(used) - Number(clients);
}

/**
 * Every key of the database, grouped by kind, with `MEMORY USAGE` (exact: `SAMPLES 0`) per kind;
 * the sample of a kind is its key that matches `sample`, if any.
 */
async function keyKinds(admin: Redis, sample: RegExp): Promise<RedisKeyKind[]> {
  const keys: string[] = [];
  for await (const batch of admin.scanIterator({ COUNT: 1000 })) keys.push(...batch);
  const usages = await Promise.all(keys.map((key) => admin.memoryUsage(key, { SAMPLES: 0 })));
  const byKind = new Map<string, { count: number; bytes: number; sampleKey: string; sampleBytes: number }>();
  keys.forEach((key, index) => {
    const kind = kindOf(key);
    const bytes = usages[index] ?? 0;
    const group = byKind.get(kind) ?? { count: 0, bytes: 0, sampleKey: key, sampleBytes: bytes };
    group.count++;
    group.bytes += bytes;
    if (sample.test(key)) Object.assign(group, { sampleKey: key, sampleBytes: bytes });
    byKind.set(kind, group);
  });
  return Promise.all(
    [...byKind].map(async ([kind, { count, bytes, sampleKey, sampleBytes }]) => {
      const [type, ttl] = await Promise.all([admin.type(sampleKey), admin.pTTL(sampleKey)]);
      return {
        kind,
        type,
        count,
        bytes,
        sampleKey,
        sampleBytes,
        expires: ttl >= 0,
        ...(type === 'set' ? { sampleMembers: await admin.sCard(sampleKey) } : {}),
      };
    }),
  );
}

async function measureHeap(redisUrl: string, entries: number): Promise<HeapFootprint> {
  const { createCache, responseCache } = await loadThisCheckout();
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('memory-child heap needs node --expose-gc');
  const redis = await connect(redisUrl);
  await redis.flushAll();
  const cache = createCache({
    redis,
    prefix: 'bench:',
    ttl: ENTRY_TTL_SECONDS,
    registry: new Registry(),
    ...PATIENT,
    // Large and long enough to hold every entry for the whole measurement.
    memoryTier: { maxEntries: 2 * (WARM_UP_ENTRIES.heap + entries), maxBytes: 2 ** 30, ttlMs: 3_600_000 },
  });
  const app = express();
  app.get(ITEM_ROUTE, responseCache(cache), slowHandler);
  const server = await listen(app);
  const port = (server.address() as AddressInfo).port;
  try {
    const from = WARM_UP_ENTRIES.heap;
    await fill(port, 0, from);
    await countSettled('the tier', () => cache.stats().memoryEntries);
    const before = collected(gc);
    const tierBefore = cache.stats();
    await fill(port, from, from + entries);
    const held =
      (await countSettled('the tier', () => cache.stats().memoryEntries)) - tierBefore.memoryEntries;
    // A write the store did not take leaves its response out of the tier too.
    if (held < entries) throw new Error(`the tier took ${held} of ${entries} responses`);
    const after = collected(gc);
    const tierAfter = cache.stats();
    return {
      entries,
      payloadBytes: payloadBytes(from, from + entries) / entries,
      heapUsedDelta: after.heapUsed - before.heapUsed,
      externalDelta: after.external - before.external,
      arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
      rssDelta: after.rss - before.rss,
      tierEntries: tierAfter.memoryEntries - tierBefore.memoryEntries,
      tierCountedBytes: tierAfter.memoryBytes - tierBefore.memoryBytes,
    };
  } finally {
    server.closeAllConnections();
    server.close();
    await cache.close();
    redis.destroy();
  }
}

/** Memory use after full collections (twice: weak references and finalizers need a second pass). */
function collected(gc: () => void): NodeJS.MemoryUsage {
  gc();
  gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const [mode, redisUrl, rawEntries] = process.argv.slice(2);
  const entries = Number(rawEntries);
  if ((mode !== 'redis' && mode !== 'heap') || redisUrl === undefined || !(entries > 0))
    throw new Error('usage: memory-child <redis|heap> <redis-url> <entries>');
  const message: MemoryChildMessage =
    mode === 'redis'
      ? { type: 'redis', footprint: await measureRedis(redisUrl, entries) }
      : { type: 'heap', footprint: await measureHeap(redisUrl, entries) };
  process.send?.(message, () => process.exit(0));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send === undefined) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: 'failed', message } satisfies MemoryChildMessage, () => process.exit(1));
});

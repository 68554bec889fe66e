import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunningRedis } from './redis-server.js';
import { stopProcess } from './redis-server.js';

/** One kind of key the cache wrote (digit runs of its keys replaced by `#`). */
export interface RedisKeyKind {
  kind: string;
  /** Redis type of its keys (`string`, `set`, …). */
  type: string;
  count: number;
  /** Sum of `MEMORY USAGE … SAMPLES 0` over its keys. */
  bytes: number;
  sampleKey: string;
  /** `MEMORY USAGE` of the sample key. */
  sampleBytes: number;
  /** Whether its keys carry an expiry. */
  expires: boolean;
  /** Members of the sample key, for sets. */
  sampleMembers?: number;
}

/** Redis memory taken by entries stored through express-cache-aside (Redis only, one tag per entry). */
export interface RedisFootprint {
  /** Entries measured. */
  entries: number;
  /** Entries in Redis at the end: the measured ones and those written before the baseline. */
  storedEntries: number;
  /** Average body of the entries, in bytes. */
  payloadBytes: number;
  /** `used_memory` less the clients' buffers (`mem_clients_normal`), after the fill minus before it. */
  usedMemoryDelta: number;
  /** Every kind of key in Redis after the fill (including those of the warm-up). */
  kinds: RedisKeyKind[];
  /** `STRLEN` of one entry's value, and the body it holds. */
  sampleEntryValueBytes: number;
  sampleEntryBodyBytes: number;
  redisVersion: string;
}

/** Process memory taken by entries held in the in-process tier. */
export interface HeapFootprint {
  entries: number;
  payloadBytes: number;
  /** After a full collection, after the fill minus before it. */
  heapUsedDelta: number;
  /** Memory outside the V8 heap (Buffers' backing stores among it). */
  externalDelta: number;
  arrayBuffersDelta: number;
  rssDelta: number;
  /** Entries the tier gained (from `stats().memoryEntries`) and the bytes it counted for them. */
  tierEntries: number;
  tierCountedBytes: number;
}

/** What `bench/memory-child.ts` reports. */
export type MemoryChildMessage =
  | { type: 'redis'; footprint: RedisFootprint }
  | { type: 'heap'; footprint: HeapFootprint }
  | { type: 'failed'; message: string };

/** Both measurements, or why one failed. */
export interface MemoryFootprint {
  redis: RedisFootprint | string;
  heap: HeapFootprint | string;
}

/** How many entries each measurement fills. */
export interface MemorySettings {
  redisEntries: number;
  heapEntries: number;
}

/** The bar: what an entry takes, at most, as a multiple of its payload (the body). */
export const MEMORY_BAR = 1.5;

/** Redis bytes per stored entry: `used_memory` grown by the fill, per entry. */
export function redisBytesPerEntry(redis: RedisFootprint): number {
  return redis.usedMemoryDelta / redis.entries;
}

/** Process bytes per entry held by the tier: V8 heap and Buffers' backing stores, after a full collection. */
export function heapBytesPerEntry(heap: HeapFootprint): number {
  return (heap.heapUsedDelta + heap.arrayBuffersDelta) / heap.entries;
}

const CHILD_ENTRY = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const CHILD_TIMEOUT_MS = 120_000;

/**
 * Measures, each in a fresh process over the benchmark's Redis (flushed first): Redis bytes per
 * stored entry, and process memory per entry of the in-process tier. A failure is reported, not thrown.
 */
export async function measureMemory(redis: RunningRedis, settings: MemorySettings): Promise<MemoryFootprint> {
  const footprint: MemoryFootprint = {
    redis: await attempt(async () => {
      const message = await runChild('redis', redis, settings.redisEntries);
      if (message.type === 'redis') return message.footprint;
      throw new Error(failure(message));
    }),
    heap: await attempt(async () => {
      const message = await runChild('heap', redis, settings.heapEntries);
      if (message.type === 'heap') return message.footprint;
      throw new Error(failure(message));
    }),
  };
  await redis.flush();
  return footprint;
}

/** The result of `measure`, or what went wrong, in one line. */
async function attempt<T>(measure: () => Promise<T>): Promise<T | string> {
  try {
    return await measure();
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return text.replace(/^Error: /, '').split('\n')[0] ?? 'failed';
  }
}

function failure(message: MemoryChildMessage): string {
  return message.type === 'failed' ? message.message : `unexpected ${message.type} report`;
}

async function runChild(
  mode: 'redis' | 'heap',
  redis: RunningRedis,
  entries: number,
): Promise<MemoryChildMessage> {
  await redis.flush();
  const child = fork(CHILD_ENTRY, [mode, redis.url, String(entries)], {
    execArgv: ['--import', TSX_LOADER, '--expose-gc'],
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    return await new Promise<MemoryChildMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`memory ${mode}: no answer in ${CHILD_TIMEOUT_MS} ms`)),
        CHILD_TIMEOUT_MS,
      );
      child.once('message', (message: MemoryChildMessage) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`memory ${mode}: the process exited (code ${code}) without a report`));
      });
    });
  } finally {
    await stopProcess(child);
  }
}

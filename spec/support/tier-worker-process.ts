import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheStats } from '../../src/engine/cache-stats.js';
import type { CacheOptions } from '../../src/options.js';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import { awaitReply, forkSpecWorker, stopSpecWorker } from './spec-worker.js';
import type { VersionedCache } from './versioned-cache.js';

/** What a tier worker is told at start, as JSON in its environment. */
export interface TierWorkerConfig {
  redisUrl: string;
  /** Key prefix, shared with the spec process's caches (and so is the invalidation channel). */
  prefix: string;
  /** `memoryTier.ttlMs` of the worker's cache; `false` for a cache without a memory tier. */
  memoryTierTtlMs: number | false;
  /** Further options of the worker's cache (plain data: they travel as JSON). */
  cacheOptions?: WorkerCacheOptions;
}

/** The options a spec may give a worker's cache besides those it always has. */
type WorkerCacheOptions = Pick<
  CacheOptions,
  'invalidationQueue' | 'invalidationAttempts' | 'invalidationBackoffMs' | 'circuitBreakerHalfOpenAfterMs'
>;

/** Methods of {@link VersionedCache} a worker runs on its cache. */
type TierWorkerMethod = keyof VersionedCache;

/** Messages from the spec process to a worker. */
export type TierWorkerRequest =
  | { type: 'call'; id: number; method: TierWorkerMethod; args: unknown[] }
  | { type: 'stats'; id: number }
  | { type: 'stop' };

/** Messages from a worker to the spec process. */
export type TierWorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string; code?: string };

/** A cache in a child process, over the spec's Redis, driven over IPC. */
export interface TierWorker extends VersionedCache {
  readonly pid: number;
  /** The counters of the worker's cache (`memoryEntries` included). */
  stats(): Promise<CacheStats>;
  /** Stops the worker (SIGKILL when it does not exit in time). */
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./tier-worker.ts', import.meta.url));
/** A bound on a worker that stopped answering IPC, not on its speed: a busy machine can be slow. */
const CALL_TIMEOUT_MS = 30_000;

/** Forks `tier-worker.ts` (through tsx) and waits until its cache is created. */
export async function startTierWorker(config: TierWorkerConfig): Promise<TierWorker> {
  const child = forkSpecWorker(WORKER_ENTRY, { TIER_WORKER_CONFIG: JSON.stringify(config) });
  try {
    await awaitReply(child, (message: TierWorkerReply) => (message.type === 'ready' ? true : undefined), {
      timeoutMs: START_UP_DEADLINE_MS,
      what: 'report ready (it loads src/ with tsx, connects to Redis, then creates its cache)',
    });
  } catch (error) {
    await stopSpecWorker(child);
    throw error;
  }
  return createHandle(child);
}

function createHandle(child: ChildProcess): TierWorker {
  let nextId = 0;
  const request = async (
    message: { type: 'call'; method: TierWorkerMethod; args: unknown[] } | { type: 'stats' },
  ) => {
    const id = nextId++;
    const what = message.type === 'call' ? message.method : 'stats';
    const replied = awaitReply(
      child,
      (reply: TierWorkerReply) => (reply.type !== 'ready' && reply.id === id ? reply : undefined),
      { timeoutMs: CALL_TIMEOUT_MS, what: `answer ${what}` },
    );
    child.send({ ...message, id } satisfies TierWorkerRequest);
    const reply = await replied;
    if (reply.type === 'error') {
      const code = reply.code === undefined ? '' : ` (${reply.code})`;
      throw new Error(`tier worker ${child.pid}: ${what} failed${code}: ${reply.message}`);
    }
    return reply.result;
  };
  const call = <M extends TierWorkerMethod>(method: M, ...args: Parameters<VersionedCache[M]>) =>
    request({ type: 'call', method, args }) as ReturnType<VersionedCache[M]>;
  return {
    pid: child.pid ?? -1,
    read: (...args) => call('read', ...args),
    set: (...args) => call('set', ...args),
    invalidate: (...args) => call('invalidate', ...args),
    invalidateTags: (...args) => call('invalidateTags', ...args),
    invalidatePattern: (...args) => call('invalidatePattern', ...args),
    expire: (...args) => call('expire', ...args),
    stats: () => request({ type: 'stats' }) as Promise<CacheStats>,
    stop: () => stopSpecWorker(child),
  };
}

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheStats } from '../../src/engine/cache-stats.js';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import type { VersionedCache } from './versioned-cache.js';

/** What a tier worker is told at start, as JSON in its environment. */
export interface TierWorkerConfig {
  redisUrl: string;
  /** Key prefix, shared with the spec process's caches (and so is the invalidation channel). */
  prefix: string;
  /** `memoryTier.ttlMs` of the worker's cache; `false` for a cache without a memory tier. */
  memoryTierTtlMs: number | false;
}

/** Methods of {@link VersionedCache} a worker runs on its cache. */
export type TierWorkerMethod = keyof VersionedCache;

/** Messages from the spec process to a worker. */
export type TierWorkerRequest =
  | { type: 'call'; id: number; method: TierWorkerMethod; args: unknown[] }
  | { type: 'stats'; id: number }
  | { type: 'stop' };

/** Messages from a worker to the spec process. */
export type TierWorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string };

/** A cache in a child process, over the spec's Redis, driven over IPC. */
export interface TierWorker extends VersionedCache {
  readonly pid: number;
  /** The counters of the worker's cache (`memoryEntries` included). */
  stats(): Promise<CacheStats>;
  /** Stops the worker (SIGKILL when it does not exit in time). */
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./tier-worker.ts', import.meta.url));
const STOP_TIMEOUT_MS = 3000;
/** A bound on a worker that stopped answering IPC, not on its speed: a busy machine can be slow. */
const CALL_TIMEOUT_MS = 30_000;
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Forks `tier-worker.ts` (through tsx) and waits until its cache is created. */
export async function startTierWorker(config: TierWorkerConfig): Promise<TierWorker> {
  // Workers stay out of coverage (see worker-cluster.ts): NODE_V8_COVERAGE is named, empty.
  const child = fork(WORKER_ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_V8_COVERAGE: '', TIER_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  try {
    await waitForReady(child);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return createHandle(child);
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `tier worker ${child.pid} did not report ready (it loads src/ with tsx, connects to Redis, ` +
            `then creates its cache) within ${START_UP_DEADLINE_MS} ms`,
        ),
      );
    }, START_UP_DEADLINE_MS);
    const onMessage = (message: TierWorkerReply) => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`tier worker ${child.pid} exited with ${String(code)} before it was ready`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function createHandle(child: ChildProcess): TierWorker {
  let nextId = 0;
  const request = (
    message: { type: 'call'; method: TierWorkerMethod; args: unknown[] } | { type: 'stats' },
  ) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      const what = message.type === 'call' ? message.method : 'stats';
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`tier worker ${child.pid} did not answer ${what} within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      const onMessage = (reply: TierWorkerReply) => {
        if (reply.type === 'ready' || reply.id !== id) return;
        cleanup();
        if (reply.type === 'result') resolve(reply.result);
        else reject(new Error(`tier worker ${child.pid}: ${what} failed: ${reply.message}`));
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`tier worker ${child.pid} exited with ${String(code)} during ${what}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...message, id } satisfies TierWorkerRequest);
    });
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
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' } satisfies TierWorkerRequest);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheStats } from '../../src/engine/cache-stats.js';
import { START_UP_DEADLINE_MS } from './busy-machine.js';

/** What a fail-safe worker is told at start, as JSON in its environment. */
export interface FailSafeWorkerConfig {
  redisUrl: string;
  /** Key prefix shared by every worker of a cluster (they must see each other's entries and locks). */
  prefix: string;
  /** How long the loader of every route takes, in milliseconds. */
  loadDelayMs: number;
  /** `redisTimeoutMs` of every cache. Default: the cache's default. */
  redisTimeoutMs?: number;
}

/** Loader runs of one worker, per route. */
export interface WorkerLoads {
  /** `/engine/:id`: `cache.lookup` with the cross-instance lock. */
  locked: number;
  /** `/engine-unlocked/:id`: the same with the lock disabled (`lockTtlMs: 0`). */
  unlocked: number;
  /** `/http/:id`: the `responseCache` middleware, with the lock. */
  http: number;
}

/** Messages from the spec process to a worker. */
export type WorkerRequest = { type: 'stats'; id: number } | { type: 'stop' };

/** Messages from a worker to the spec process. */
export type WorkerReply =
  | { type: 'listening'; port: number }
  | { type: 'stats'; id: number; loads: WorkerLoads; stats: CacheStats };

/** One running worker. */
export interface WorkerHandle {
  readonly pid: number;
  readonly baseUrl: string;
  /** Loader runs and cache counters of this worker, asked over IPC. */
  stats(): Promise<{ loads: WorkerLoads; stats: CacheStats }>;
}

/** A set of app instances in child processes, sharing one Redis, like replicas behind a load balancer. */
export interface WorkerCluster {
  readonly workers: readonly WorkerHandle[];
  /** Sum of the loader runs of every worker. */
  totalLoads(): Promise<WorkerLoads>;
  /** Stops every worker (SIGKILL for any that does not exit in time). */
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./fail-safe-worker.ts', import.meta.url));
const STOP_TIMEOUT_MS = 3000;
/** A bound on a worker that stopped answering IPC, not on its speed: a busy machine can be slow. */
const STATS_TIMEOUT_MS = 30_000;
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Forks `count` workers of `fail-safe-worker.ts` and waits until each listens on 127.0.0.1. */
export async function startWorkerCluster(
  count: number,
  config: FailSafeWorkerConfig,
): Promise<WorkerCluster> {
  const children = Array.from({ length: count }, () => forkWorker(config));
  const started = await Promise.allSettled(children.map(waitForPort));
  if (started.some((result) => result.status === 'rejected')) {
    await Promise.all(children.map(stopChild));
    const failure = started.find((result) => result.status === 'rejected');
    throw (failure as PromiseRejectedResult).reason;
  }
  const workers = children.map((child, index) => {
    const port = (started[index] as PromiseFulfilledResult<number>).value;
    return createHandle(child, port);
  });
  return {
    workers,
    totalLoads: async () => {
      const all = await Promise.all(workers.map((worker) => worker.stats()));
      return all.reduce(
        (sum, { loads }) => ({
          locked: sum.locked + loads.locked,
          unlocked: sum.unlocked + loads.unlocked,
          http: sum.http + loads.http,
        }),
        { locked: 0, unlocked: 0, http: 0 },
      );
    },
    stop: async () => {
      await Promise.all(children.map(stopChild));
    },
  };
}

function forkWorker(config: FailSafeWorkerConfig): ChildProcess {
  // Workers stay out of coverage: c8 would merge their differently transpiled copies of src/
  // with the test process's by byte offset, and report wrong lines and branches. Node copies the
  // parent's NODE_V8_COVERAGE into a child's env unless the env names it, so it is named, empty.
  const child = fork(WORKER_ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_V8_COVERAGE: '', FAIL_SAFE_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `worker ${child.pid} did not report listening (it loads src/ with tsx, connects to Redis, ` +
            `then listens) within ${START_UP_DEADLINE_MS} ms`,
        ),
      );
    }, START_UP_DEADLINE_MS);
    const onMessage = (message: WorkerReply) => {
      if (message.type !== 'listening') return;
      cleanup();
      resolve(message.port);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`worker ${child.pid} exited with ${String(code)} before listening`));
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

function createHandle(child: ChildProcess, port: number): WorkerHandle {
  let nextId = 0;
  return {
    pid: child.pid ?? -1,
    baseUrl: `http://127.0.0.1:${port}`,
    stats: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`worker ${child.pid} did not report its stats within ${STATS_TIMEOUT_MS} ms`));
        }, STATS_TIMEOUT_MS);
        const onMessage = (message: WorkerReply) => {
          if (message.type !== 'stats' || message.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({ loads: message.loads, stats: message.stats });
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', id } satisfies WorkerRequest);
      }),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' } satisfies WorkerRequest);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

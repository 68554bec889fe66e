import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheStats } from '../../src/engine/cache-stats.js';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import { awaitReply, forkSpecWorker, stopSpecWorker } from './spec-worker.js';

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
interface WorkerHandle {
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
/** A bound on a worker that stopped answering IPC, not on its speed: a busy machine can be slow. */
const STATS_TIMEOUT_MS = 30_000;

/** Forks `count` workers of `fail-safe-worker.ts` and waits until each listens on 127.0.0.1. */
export async function startWorkerCluster(
  count: number,
  config: FailSafeWorkerConfig,
): Promise<WorkerCluster> {
  const children = Array.from({ length: count }, () =>
    forkSpecWorker(WORKER_ENTRY, { FAIL_SAFE_WORKER_CONFIG: JSON.stringify(config) }),
  );
  const started = await Promise.allSettled(
    children.map((child) =>
      awaitReply(child, (message: WorkerReply) => (message.type === 'listening' ? message.port : undefined), {
        timeoutMs: START_UP_DEADLINE_MS,
        what: 'report listening (it loads src/ with tsx, connects to Redis, then listens)',
      }),
    ),
  );
  if (started.some((result) => result.status === 'rejected')) {
    await Promise.all(children.map(stopSpecWorker));
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
      await Promise.all(children.map(stopSpecWorker));
    },
  };
}

function createHandle(child: ChildProcess, port: number): WorkerHandle {
  let nextId = 0;
  return {
    pid: child.pid ?? -1,
    baseUrl: `http://127.0.0.1:${port}`,
    stats: async () => {
      const id = nextId++;
      const replied = awaitReply(
        child,
        (message: WorkerReply) =>
          message.type === 'stats' && message.id === id
            ? { loads: message.loads, stats: message.stats }
            : undefined,
        { timeoutMs: STATS_TIMEOUT_MS, what: 'report its stats' },
      );
      child.send({ type: 'stats', id } satisfies WorkerRequest);
      return replied;
    },
  };
}

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheMode } from '../../src/events.js';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import { awaitReply, forkSpecWorker, stopSpecWorker } from './spec-worker.js';

/** What a mode worker is told at start, as JSON in its environment. */
export interface ModeWorkerConfig {
  redisUrl: string;
  /** Key prefix, shared with the spec process's cache (and so is the invalidation channel). */
  prefix: string;
}

/** What a worker's cache says of its mode: the mode now, and every switch it heard of. */
interface WorkerModes {
  mode: CacheMode;
  /** `<mode> <fromAnotherInstance>`, in order. */
  switches: string[];
}

/** Messages from the spec process to a worker. */
export type ModeWorkerRequest =
  | { type: 'setMode'; id: number; mode: CacheMode; everywhere: boolean }
  | { type: 'modes'; id: number }
  | { type: 'stop' };

/** Messages from a worker to the spec process. */
export type ModeWorkerReply =
  | { type: 'ready'; port: number }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string };

/** An app instance in a child process, its `/items/:id` route cached over the spec's Redis. */
export interface ModeWorker {
  readonly baseUrl: string;
  setMode(mode: CacheMode, options: { everywhere: boolean }): Promise<void>;
  modes(): Promise<WorkerModes>;
  /** Stops the worker (SIGKILL when it does not exit in time). */
  stop(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./mode-worker.ts', import.meta.url));
/** A bound on a worker that stopped answering IPC, not on its speed: a busy machine can be slow. */
const CALL_TIMEOUT_MS = 30_000;

/** Forks `mode-worker.ts` (through tsx) and waits until its app listens. */
export async function startModeWorker(config: ModeWorkerConfig): Promise<ModeWorker> {
  const child = forkSpecWorker(WORKER_ENTRY, { MODE_WORKER_CONFIG: JSON.stringify(config) });
  let port: number;
  try {
    port = await awaitReply(
      child,
      (message: ModeWorkerReply) => (message.type === 'ready' ? message.port : undefined),
      {
        timeoutMs: START_UP_DEADLINE_MS,
        what: 'listen (it loads src/ with tsx, connects to Redis, then creates its cache and app)',
      },
    );
  } catch (error) {
    await stopSpecWorker(child);
    throw error;
  }
  return createHandle(child, port);
}

function createHandle(child: ChildProcess, port: number): ModeWorker {
  let nextId = 0;
  const request = async (
    message: { type: 'setMode'; mode: CacheMode; everywhere: boolean } | { type: 'modes' },
  ): Promise<unknown> => {
    const id = nextId++;
    const replied = awaitReply(
      child,
      (reply: ModeWorkerReply) => (reply.type !== 'ready' && reply.id === id ? reply : undefined),
      { timeoutMs: CALL_TIMEOUT_MS, what: `answer ${message.type}` },
    );
    child.send({ ...message, id } satisfies ModeWorkerRequest);
    const reply = await replied;
    if (reply.type === 'error')
      throw new Error(`mode worker ${child.pid}: ${message.type} failed: ${reply.message}`);
    return reply.result;
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    setMode: async (mode, { everywhere }) => {
      await request({ type: 'setMode', mode, everywhere });
    },
    modes: () => request({ type: 'modes' }) as Promise<WorkerModes>,
    stop: () => stopSpecWorker(child),
  };
}

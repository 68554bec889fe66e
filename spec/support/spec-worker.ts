import { type ChildProcess, fork } from 'node:child_process';

const STOP_TIMEOUT_MS = 3000;
const live = new Set<ChildProcess>();

// Mocha runs with `exit: true`: whatever a failed spec left running must not outlive the run.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Forks `entry` (a `.ts` file, through tsx) with `env` added to this process's environment, its
 * output on this process's and an IPC channel to it.
 */
export function forkSpecWorker(entry: string, env: Record<string, string>): ChildProcess {
  // Workers stay out of coverage: c8 would merge their differently transpiled copies of src/
  // with the test process's by byte offset, and report wrong lines and branches. Node copies the
  // parent's NODE_V8_COVERAGE into a child's env unless the env names it, so it is named, empty.
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_V8_COVERAGE: '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** What {@link awaitReply} says when no reply came. */
export interface ReplyWait {
  /** Longest wait, in milliseconds: a bound on a hang, not on speed. */
  timeoutMs: number;
  /** What did not happen, as in "worker 12 did not <what> within 30000 ms". */
  what: string;
}

/**
 * The first IPC message of `child` that `pick` answers (returns other than `undefined`) for.
 * Rejects when none came within `wait.timeoutMs`, or the child exited first.
 */
export function awaitReply<M, T>(
  child: ChildProcess,
  pick: (message: M) => T | undefined,
  wait: ReplyWait,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker ${child.pid} did not ${wait.what} within ${wait.timeoutMs} ms`));
    }, wait.timeoutMs);
    const onMessage = (message: M) => {
      const picked = pick(message);
      if (picked === undefined) return;
      cleanup();
      resolve(picked);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`worker ${child.pid} exited with ${String(code)} before it could ${wait.what}`));
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

/** Asks `child` to stop (`{ type: 'stop' }`), SIGKILL when it has not exited within 3 s. */
export async function stopSpecWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

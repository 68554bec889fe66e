import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinToCpu } from './cpu-pinning.js';
import { stopProcess } from './redis-server.js';
import type { ChildMessage, ParentMessage } from './variant-child.js';

/** How a variant's server process is started. */
export interface VariantProcessOptions {
  /** Pin the server to this core. */
  cpu?: number;
  /** Further environment variables for the server process. */
  env?: Readonly<Record<string, string>>;
}

/** Counters of a variant's process, read between runs. */
export interface ServerCounters {
  /** Responses built by the fixture handlers so far. */
  handlerRuns: number;
  /** CPU time used by the process so far (user + system), in microseconds. */
  cpuMicros: number;
}

const CHILD_ENTRY = fileURLToPath(new URL('./variant-child.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const READY_TIMEOUT_MS = 20_000;
const REPLY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
// Whatever happens to the harness, no server outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One variant's Express server, in its own process so that it never shares an event loop with the load generator. */
export class VariantProcess {
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  /** Forks `bench/variant-child.ts` for `variantId` and waits until it listens. */
  static async start(
    variantId: string,
    redisUrl: string,
    options: VariantProcessOptions = {},
  ): Promise<VariantProcess> {
    const child = fork(CHILD_ENTRY, [variantId, redisUrl], {
      execArgv: ['--import', TSX_LOADER, '--disable-warning=DEP0066'],
      // As deployed: apicache, for one, adds debugging headers outside production.
      env: { ...process.env, ...options.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    try {
      if (options.cpu !== undefined && child.pid !== undefined && !pinToCpu(child.pid, options.cpu)) {
        throw new Error(`could not pin variant ${variantId} to CPU ${options.cpu}`);
      }
      const ready = await nextMessage(
        child,
        READY_TIMEOUT_MS,
        (message) => message.type === 'ready' || message.type === 'failed',
      );
      if (ready.type !== 'ready')
        throw new Error(
          `variant ${variantId} failed to start:\n${ready.type === 'failed' ? ready.message : ''}`,
        );
      return new VariantProcess(child, ready.port);
    } catch (error) {
      await stopProcess(child);
      throw error;
    }
  }

  /** The server's handler runs and CPU time so far. */
  async counters(): Promise<ServerCounters> {
    const reply = nextMessage(this.#child, REPLY_TIMEOUT_MS, (message) => message.type === 'counters');
    this.#send({ type: 'counters' });
    const message = await reply;
    if (message.type !== 'counters') throw new Error('unexpected reply from the variant process');
    return { handlerRuns: message.handlerRuns, cpuMicros: message.cpuMicros };
  }

  /** Starts the CPU profiler in the server. */
  async startProfile(): Promise<void> {
    const reply = nextMessage(this.#child, REPLY_TIMEOUT_MS, (message) => message.type === 'profiling');
    this.#send({ type: 'profile-start' });
    await reply;
  }

  /** Stops the profiler and has the server write its profile to `path`. */
  async stopProfile(path: string): Promise<void> {
    const reply = nextMessage(this.#child, REPLY_TIMEOUT_MS, (message) => message.type === 'profile-written');
    this.#send({ type: 'profile-stop', path });
    await reply;
  }

  /** Asks the server to close and exit; kills it if it does not. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#send({ type: 'stop' });
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  }

  #send(message: ParentMessage): void {
    this.#child.send(message);
  }
}

function nextMessage(
  child: ChildProcess,
  timeoutMs: number,
  accept: (message: ChildMessage) => boolean,
): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: ChildMessage) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`variant process exited (code ${code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`variant process did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverMessage, InstanceConfig, InstanceMessage, InstanceReport } from './instance-protocol.js';

const CHILD_ENTRY = fileURLToPath(new URL('./app-server.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const READY_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

const running = new Set<ChildProcess>();
// Whatever happens to the driver, no app instance outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One app instance (Express + cache) in its own process, as the driver sees it. */
export class AppInstance {
  readonly name: string;
  readonly baseUrl: string;
  readonly #child: ChildProcess;

  private constructor(name: string, child: ChildProcess, port: number) {
    this.name = name;
    this.#child = child;
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  /** Forks `app-server.ts` with `config` and waits until it listens. */
  static async start(config: InstanceConfig): Promise<AppInstance> {
    const child = fork(CHILD_ENTRY, [JSON.stringify(config)], {
      execArgv: ['--import', TSX_LOADER],
      // Coverage tooling in the environment (c8) would otherwise write a profile per child, or break it.
      env: { ...process.env, NODE_V8_COVERAGE: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    try {
      const ready = await nextMessage(child, READY_TIMEOUT_MS, (message) => message.type !== 'report');
      if (ready.type !== 'ready') {
        throw new Error(
          `instance ${config.name} failed to start:\n${ready.type === 'failed' ? ready.message : ''}`,
        );
      }
      return new AppInstance(config.name, child, ready.port);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** What the instance counted so far. */
  async report(): Promise<InstanceReport> {
    const reply = nextMessage(this.#child, REPLY_TIMEOUT_MS, (message) => message.type === 'report');
    this.#send({ type: 'report' });
    const message = await reply;
    if (message.type !== 'report') throw new Error(`unexpected reply from instance ${this.name}`);
    return message.report;
  }

  /** Asks the instance to close and exit; kills it if it does not. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#send({ type: 'stop' });
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  }

  #send(message: DriverMessage): void {
    if (this.#child.connected) this.#child.send(message);
  }
}

function nextMessage(
  child: ChildProcess,
  timeoutMs: number,
  accept: (message: InstanceMessage) => boolean,
): Promise<InstanceMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: InstanceMessage) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`instance process exited (code ${code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`instance process did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

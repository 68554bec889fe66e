import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';

const HOST = '127.0.0.1';
const START_UP_TIMEOUT_MS = 10_000;
const live = new Set<ChildProcess>();

// Whatever happens to the soak, no redis-server outlives it (SIGKILL also ends a stopped process).
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The soak's one `redis-server` (from PATH, loopback only, no persistence), with the faults it
 * injects: a crash (SIGKILL, then a new server on the same port, empty) and a stall (SIGSTOP/SIGCONT).
 */
export class RedisProcess {
  readonly port: number;
  readonly url: string;
  #child: ChildProcess;
  #paused = false;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.url = `redis://${HOST}:${port}`;
    this.#child = child;
  }

  /** Starts a server on `port` and waits until it accepts connections. */
  static async start(port: number): Promise<RedisProcess> {
    return new RedisProcess(port, await spawnServer(port));
  }

  /** A crash: SIGKILL, so nothing is flushed or announced; resolves once the process is gone. */
  async kill(): Promise<void> {
    await killChild(this.#child);
    this.#paused = false;
  }

  /** A new, empty server on the same port, as a supervisor would restart it. */
  async restart(): Promise<void> {
    await killChild(this.#child);
    this.#child = await spawnServer(this.port);
  }

  /** A stall: the process stops, its connections stay open and nothing answers. */
  pause(): void {
    this.#paused = this.#child.kill('SIGSTOP');
  }

  resume(): void {
    if (this.#paused) this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  async stop(): Promise<void> {
    this.resume();
    await killChild(this.#child);
  }
}

async function spawnServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'],
      ...['--loglevel', 'warning', '--logfile', ''],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_V8_COVERAGE: '' } },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) =>
      reject(
        new Error('could not start redis-server: is it on PATH? (Debian: apt-get install redis-server)', {
          cause: error,
        }),
      ),
    );
  });
  await spawned;
  live.add(child);
  child.once('exit', () => live.delete(child));
  try {
    await waitUntilListening(port, child);
    return child;
  } catch (error) {
    await killChild(child);
    throw error;
  }
}

/** Polls with a PING over a raw socket, so no client (and no reconnection policy) is involved. */
async function waitUntilListening(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_UP_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null)
      throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer within ${START_UP_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

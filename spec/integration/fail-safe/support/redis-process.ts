import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server child process that a spec can stop and start again on the same port. */
export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Starts the server (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops the server and removes its working directory. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;
const live = new Set<ChildProcess>();

// Mocha runs with `exit: true`; whatever a failed spec left running must not outlive it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `redis-server` on a free loopback port, without persistence; `args` are extra server arguments. */
export async function spawnRedis(args: readonly string[] = []): Promise<RedisProcess> {
  const host = '127.0.0.1';
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'eca-redis-'));
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(started);
    started.once('exit', () => {
      live.delete(started);
      if (child === started) child = undefined;
    });
    child = started;
    await waitUntilReady(started);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not become ready in ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${String(code)} before it was ready:\n${output}`));
    });
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

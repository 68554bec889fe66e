import { type ChildProcess, spawn } from 'node:child_process';
import { createClient } from 'redis';
import { pinToCpu } from './cpu-pinning.js';
import { findFreePort } from './free-port.js';

/** A redis-server the benchmark started and must stop. */
export interface RunningRedis {
  url: string;
  port: number;
  version: string;
  /** Deletes every key, so that each variant starts from an empty Redis. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;

/** Starts `redis-server` (from PATH) on a free 127.0.0.1 port, without persistence, pinned to `cpu` if given. */
export async function startRedisServer(cpu?: number): Promise<RunningRedis> {
  const port = await findFreePort();
  const server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stopServer = () => stopProcess(server);
  process.once('exit', () => server.kill('SIGKILL'));
  if (cpu !== undefined && server.pid !== undefined && !pinToCpu(server.pid, cpu)) {
    await stopServer();
    throw new Error(`could not pin redis-server to CPU ${cpu}`);
  }
  const url = `redis://127.0.0.1:${port}`;
  try {
    const client = await connectWhenUp(url, server);
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return {
      url,
      port,
      version,
      flush: async () => {
        await client.flushAll();
      },
      stop: async () => {
        client.destroy();
        await stopServer();
      },
    };
  } catch (error) {
    await stopServer();
    throw error;
  }
}

function createAdminClient(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  return client;
}

async function connectWhenUp(
  url: string,
  server: ChildProcess,
): Promise<ReturnType<typeof createAdminClient>> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`redis-server exited with code ${server.exitCode}`);
    const client = createAdminClient(url);
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch (error) {
      client.destroy();
      if (Date.now() > deadline)
        throw new Error('redis-server did not accept connections in time', { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** SIGTERM, then SIGKILL if the process is still there after two seconds. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(killer);
}

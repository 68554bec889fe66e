import type { ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { spawnRedis } from '../spec/support/redis-server.js';
import { pinToCpu } from './cpu-pinning.js';

/** A redis-server the benchmark started and must stop. */
export interface RunningRedis {
  url: string;
  port: number;
  version: string;
  /** Deletes every key, so that each variant starts from an empty Redis. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) on a free 127.0.0.1 port, without persistence, pinned to `cpu`
 * if given: the specs' own launcher, so that the benchmark and the specs run the same server.
 */
export async function startRedisServer(cpu?: number): Promise<RunningRedis> {
  const server = await spawnRedis();
  if (cpu !== undefined && (server.pid === undefined || !pinToCpu(server.pid, cpu))) {
    await server.dispose();
    throw new Error(`could not pin redis-server to CPU ${cpu}`);
  }
  const client = createClient({ url: server.url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    return {
      url: server.url,
      port: server.port,
      version,
      flush: async () => {
        await client.flushAll();
      },
      stop: async () => {
        client.destroy();
        await server.dispose();
      },
    };
  } catch (error) {
    client.destroy();
    await server.dispose();
    throw error;
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

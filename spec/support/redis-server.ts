import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './find-free-port.js';
import { type RedisNodeProcess, spawnRedisNode } from './redis-node-process.js';

/** A real redis-server for one spec file (or one benchmark), stopped for good by `stop()`. */
export interface TestRedis {
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** A redis-server child process that a spec can stop and start again on the same port. */
export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The running server's process id; undefined while it is stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts the server (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops the server and removes its working directory. */
  dispose(): Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) on a free loopback port, without persistence, and waits until
 * it accepts connections; `args` are extra server arguments. The one way specs and the benchmark
 * start a single Redis (a Cluster and a Sentinel set start theirs with the same `spawnRedisNode`).
 */
export async function spawnRedis(args: readonly string[] = []): Promise<RedisProcess> {
  assertRedisServerOnPath();
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'eca-redis-'));
  let node: RedisNodeProcess | undefined;

  const start = async (): Promise<void> => {
    if (node?.running) return;
    node = await spawnRedisNode({ dir, port, args });
  };
  const stop = async (): Promise<void> => {
    await node?.kill();
  };

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return node?.running ? node.pid : undefined;
    },
    get running() {
      return node?.running ?? false;
    },
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a fresh redis-server on a free loopback port for a spec that never restarts it. */
export async function startRedis(args: readonly string[] = []): Promise<TestRedis> {
  const redis = await spawnRedis(args);
  return { url: redis.url, host: redis.host, port: redis.port, stop: () => redis.dispose() };
}

function assertRedisServerOnPath(): void {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server is not on PATH: install it (Debian: apt-get install -y redis-server)');
  }
}

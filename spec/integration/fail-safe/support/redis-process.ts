import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from '../../../support/find-free-port.js';
import { type RedisNodeProcess, spawnRedisNode } from '../../../support/redis-node-process.js';

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

/** Starts `redis-server` on a free loopback port, without persistence; `args` are extra server arguments. */
export async function spawnRedis(args: readonly string[] = []): Promise<RedisProcess> {
  const [port] = (await findFreePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), 'eca-redis-'));
  let node: RedisNodeProcess | undefined;

  const start = async (): Promise<void> => {
    if (node?.running) return;
    node = await spawnRedisNode({ dir, port, args });
  };
  const stop = async (): Promise<void> => {
    await node?.kill();
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
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

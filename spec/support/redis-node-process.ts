import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from 'redis';
import { START_UP_DEADLINE_MS } from './busy-machine.js';

/** A connection for administering one server: CLUSTER INFO, INFO replication, FLUSHALL, SENTINEL… */
type AdminClient = ReturnType<typeof createClient>;

/** One `redis-server` process (a cluster node, a master, a replica or a sentinel) owned by the spec. */
export interface RedisNodeProcess {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** `<host>:<port>`, as CLUSTER NODES and redis-cli spell a node. */
  readonly address: string;
  /** The process id (to pin it to a CPU, or signal it); undefined if the spawn failed. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Connected while the server runs; closed by `kill()`. */
  readonly admin: AdminClient;
  /** SIGKILL (a crash, not a shutdown); resolves once the process has exited. */
  kill(): Promise<void>;
}

/** Where a server listens and what else it is told. */
export interface RedisNodeSettings {
  /** Working directory: the log, and any file the server writes. */
  dir: string;
  port: number;
  /** Extra arguments, after the port, bind address and no-persistence settings. */
  args?: readonly string[];
  /** A config file to start from (a sentinel needs one it can rewrite). */
  configFile?: string;
}

const HOST = '127.0.0.1';
const live = new Set<ChildProcess>();

// Mocha runs with `exit: true`: whatever a failed spec left running must not outlive the run.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `redis-server` on loopback without persistence, and waits until it accepts connections. */
export async function spawnRedisNode(settings: RedisNodeSettings): Promise<RedisNodeProcess> {
  const { dir, port } = settings;
  const child = spawn(
    'redis-server',
    [
      ...(settings.configFile === undefined ? [] : [settings.configFile]),
      ...['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'],
      ...['--dir', dir, '--logfile', join(dir, `redis-${port}.log`)],
      ...(settings.args ?? []),
    ],
    { stdio: 'ignore' },
  );
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const running = () => live.has(child);
  const kill = async () => {
    admin.destroy();
    if (running()) child.kill('SIGKILL');
    await exited;
  };

  const admin: AdminClient = createClient({
    url: `redis://${HOST}:${port}`,
    // Retry while the server starts (the start-up deadline below bounds that); once it is killed
    // or has exited, stay down instead of reconnecting forever.
    socket: { reconnectStrategy: () => (running() ? 20 : false) },
  });
  admin.on('error', () => undefined);
  try {
    await withTimeout(
      admin.connect(),
      START_UP_DEADLINE_MS,
      `redis-server on port ${port} did not accept a connection (see ${join(dir, `redis-${port}.log`)})`,
    );
  } catch (error) {
    await kill();
    throw error;
  }

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    address: `${HOST}:${port}`,
    pid: child.pid,
    get running() {
      return running();
    },
    admin,
    kill,
  };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSentinel } from 'redis';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import { findFreePorts } from './find-free-port.js';
import { type RedisNodeProcess, spawnRedisNode } from './redis-node-process.js';

/** A node-redis Sentinel client as {@link TestRedisSentinel.connect} returns it. */
export type SentinelClient = ReturnType<typeof createSentinelClient>;

/** A master, its replica and one sentinel watching them, on loopback, owned by one spec file. */
export interface TestRedisSentinel {
  /** Name of the monitored master, for `createSentinel({ name })`. */
  readonly name: string;
  readonly master: RedisNodeProcess;
  readonly replica: RedisNodeProcess;
  readonly sentinel: RedisNodeProcess;
  /** A connected Sentinel client, closed by `stop()`. */
  connect(): Promise<SentinelClient>;
  /** Port of the server the sentinel calls master now. */
  masterPort(): Promise<number>;
  /** Deletes every key (on the master; the replica follows). */
  flushAll(): Promise<void>;
  /** Closes the clients, kills the three servers and removes the working directory. */
  stop(): Promise<void>;
}

const NAME = 'eca-master';
const POLL_MS = 50;

/**
 * Starts a master, a replica of it and a sentinel (quorum 1, `down-after` 1 s, so that a failover
 * takes a few seconds), and waits until the sentinel sees the replica in sync.
 */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'eca-sentinel-'));
  const [masterPort, replicaPort, sentinelPort] = (await findFreePorts(3)) as [number, number, number];
  const nodes: RedisNodeProcess[] = [];
  const clients: SentinelClient[] = [];
  const stop = async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.destroy()));
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const syncNow = ['--repl-diskless-sync-delay', '0'];
    const master = await spawnRedisNode({ dir, port: masterPort, args: syncNow });
    nodes.push(master);
    const replicaOf = ['--replicaof', master.host, String(master.port)];
    const replica = await spawnRedisNode({ dir, port: replicaPort, args: [...syncNow, ...replicaOf] });
    nodes.push(replica);
    // A sentinel rewrites its config file with what it learns, so it gets a file of its own.
    const configFile = join(dir, 'sentinel.conf');
    writeFileSync(
      configFile,
      [
        `sentinel monitor ${NAME} ${master.host} ${master.port} 1`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 2000`,
        '',
      ].join('\n'),
    );
    const sentinel = await spawnRedisNode({ dir, port: sentinelPort, configFile, args: ['--sentinel'] });
    nodes.push(sentinel);

    // The sentinel must know the replica (to promote it), and the replica must hold the master's data.
    const replicaInSync = async () => {
      const known = JSON.stringify(await sentinel.admin.sendCommand(['SENTINEL', 'REPLICAS', NAME]));
      const replication = await replica.admin.info('replication');
      return known.includes(`"${replica.port}"`) && replication.includes('master_link_status:up');
    };
    const deadline = Date.now() + START_UP_DEADLINE_MS;
    while (!(await replicaInSync())) {
      if (Date.now() > deadline) {
        throw new Error(
          `the sentinel did not list the replica, in sync with the master, within ${START_UP_DEADLINE_MS} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }

    const masterPortNow = async () => {
      const reply = (await sentinel.admin.sendCommand([
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        NAME,
      ])) as string[];
      return Number(reply[1]);
    };
    return {
      name: NAME,
      master,
      replica,
      sentinel,
      connect: async () => {
        const client = createSentinelClient(sentinel);
        client.on('error', () => undefined);
        clients.push(client);
        await client.connect();
        return client;
      },
      masterPort: masterPortNow,
      flushAll: async () => {
        const port = await masterPortNow();
        await nodes.find((node) => node.port === port)?.admin.flushAll();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function createSentinelClient(sentinel: RedisNodeProcess) {
  return createSentinel({ name: NAME, sentinelRootNodes: [{ host: sentinel.host, port: sentinel.port }] });
}

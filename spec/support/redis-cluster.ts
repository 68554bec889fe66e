import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCluster } from 'redis';
import { START_UP_DEADLINE_MS } from './busy-machine.js';
import { parseClusterNodes, replicatedMasterPorts, servingMasterPorts } from './cluster-topology.js';
import { findFreePorts } from './find-free-port.js';
import { type RedisNodeProcess, spawnRedisNode } from './redis-node-process.js';

/** A node-redis cluster client as {@link TestRedisCluster.connect} returns it. */
export type ClusterClient = ReturnType<typeof createCluster>;

/** Options of `createCluster` other than the seeds. */
export type ClusterConnectOptions = Omit<NonNullable<Parameters<typeof createCluster>[0]>, 'rootNodes'>;

/** Shape of a {@link startRedisCluster} cluster. */
export interface RedisClusterSettings {
  /** Default 3. */
  masters?: number;
  /** 0 or 1; a failover needs 1. Default 0. */
  replicasPerMaster?: number;
  /** How long a node may be silent before the cluster declares it failed, in milliseconds. Default 1000. */
  nodeTimeoutMs?: number;
  /**
   * `cluster-allow-reads-when-down yes`: the masters still answer reads while the cluster is down (a
   * master failed and no replica has taken its slots yet) instead of `CLUSTERDOWN`. Default false.
   */
  allowReadsWhenDown?: boolean;
}

/** A real Redis Cluster on loopback, owned by one spec file. */
export interface TestRedisCluster {
  readonly nodes: readonly RedisNodeProcess[];
  /** Seeds for `createCluster({ rootNodes })`: every node that was started. */
  readonly rootNodes: { url: string }[];
  /** A connected cluster client, closed by `stop()`; `options` are merged over the seeds. */
  connect(options?: ClusterConnectOptions): Promise<ClusterClient>;
  /** The nodes that serve hash slots now, as the running nodes see it. */
  servingMasters(): Promise<RedisNodeProcess[]>;
  /** The serving masters that have a replica in working order: those that can fail over. */
  replicatedMasters(): Promise<RedisNodeProcess[]>;
  /**
   * Waits until every running node agrees that all slots are served by running masters; fails
   * after `timeoutMs` (default: the start-up deadline, which bounds a hang, not speed).
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Deletes every key on every serving master. */
  flushAll(): Promise<void>;
  /** Closes the clients, kills every node and removes the working directory. */
  stop(): Promise<void>;
}

const run = promisify(execFile);
const POLL_MS = 50;
const HASH_SLOTS = 16_384;

/**
 * Starts `masters × (1 + replicasPerMaster)` redis-server processes in cluster mode on free
 * loopback ports, joins them with `redis-cli --cluster create`, and waits for `cluster_state:ok`
 * on every node. Call `stop()` in an after-hook; a process left running is killed when the run exits.
 */
export async function startRedisCluster(settings: RedisClusterSettings = {}): Promise<TestRedisCluster> {
  const masters = settings.masters ?? 3;
  const replicasPerMaster = settings.replicasPerMaster ?? 0;
  const nodeTimeoutMs = settings.nodeTimeoutMs ?? 1_000;
  const extraArgs = settings.allowReadsWhenDown === true ? ['--cluster-allow-reads-when-down', 'yes'] : [];
  const count = masters * (1 + replicasPerMaster);
  const dir = mkdtempSync(join(tmpdir(), 'eca-cluster-'));
  const ports = await findFreePorts(2 * count);
  const nodes: RedisNodeProcess[] = [];
  const clients: ClusterClient[] = [];

  const stop = async () => {
    // destroy, not close: a graceful close could wait on commands queued for a node that was killed.
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(dir, { recursive: true, force: true });
  };

  /** The running nodes whose ports `select` picks from the topology that a running node reports. */
  const nodesOf = async (select: typeof servingMasterPorts) => {
    const reporter = nodes.find((node) => node.running);
    if (reporter === undefined) return [];
    const ports = select(parseClusterNodes(String(await reporter.admin.clusterNodes())));
    return nodes.filter((node) => ports.includes(node.port));
  };
  const servingMasters = () => nodesOf(servingMasterPorts);

  const isHealthy = async (): Promise<boolean> => {
    const running = nodes.filter((node) => node.running);
    const views = await Promise.all(
      running.map(async (node) => ({
        info: parseInfo(String(await node.admin.clusterInfo())),
        topology: String(await node.admin.clusterNodes()),
        replication: parseInfo(String(await node.admin.info('replication'))),
      })),
    );
    const agreed = views.map((view) => servingMasterPorts(parseClusterNodes(view.topology)).join(','));
    const servers = servingMasterPorts(parseClusterNodes(views[0]?.topology ?? ''));
    return (
      views.every(
        ({ info }) => info.cluster_state === 'ok' && info.cluster_slots_ok === String(HASH_SLOTS),
      ) &&
      views.every(({ info }) => info.cluster_known_nodes === String(count)) &&
      new Set(agreed).size === 1 &&
      servers.length === masters &&
      servers.every((port) => running.some((node) => node.port === port)) &&
      // A replica must be in sync with its master, or killing the master loses the slot's data.
      views.every(
        ({ replication }) => replication.role !== 'slave' || replication.master_link_status === 'up',
      )
    );
  };

  const waitUntilHealthy = async (timeoutMs = START_UP_DEADLINE_MS) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await isHealthy().catch(() => false))) {
      if (Date.now() > deadline)
        throw new Error(
          `the Redis Cluster did not become healthy (every slot served, every node agreeing, ` +
            `every replica in sync) within ${timeoutMs} ms`,
        );
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  try {
    const spawned = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => {
        const [port, busPort] = ports.slice(2 * i, 2 * i + 2) as [number, number];
        return spawnRedisNode({
          dir,
          port,
          args: [...clusterNodeArgs(port, busPort, nodeTimeoutMs), ...extraArgs],
        });
      }),
    );
    for (const outcome of spawned) if (outcome.status === 'fulfilled') nodes.push(outcome.value);
    const failure = spawned.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    await run(
      'redis-cli',
      [
        ...['--cluster', 'create', ...nodes.map((node) => node.address)],
        ...['--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      ],
      // A bound on a hung redis-cli, not on its speed.
      { timeout: START_UP_DEADLINE_MS },
    );
    await waitUntilHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  const rootNodes = nodes.map((node) => ({ url: node.url }));
  return {
    nodes,
    rootNodes,
    connect: async (options: ClusterConnectOptions = {}) => {
      const client = createCluster({ rootNodes, ...options });
      // A cluster client emits `error` when a topology refresh fails; unobserved, that would end the run.
      client.on('error', () => undefined);
      clients.push(client);
      return client.connect();
    },
    servingMasters,
    replicatedMasters: () => nodesOf(replicatedMasterPorts),
    waitUntilHealthy,
    flushAll: async () => {
      await Promise.all((await servingMasters()).map((node) => node.admin.flushAll()));
    },
    stop,
  };
}

/**
 * Cluster mode with a short node timeout, so that a failover takes a couple of seconds; a replica
 * may always take over (validity factor 0) and syncs at once (no diskless-sync delay).
 */
function clusterNodeArgs(port: number, busPort: number, nodeTimeoutMs: number): string[] {
  return [
    ...['--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
    ...['--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs)],
    ...['--cluster-replica-validity-factor', '0', '--repl-diskless-sync-delay', '0'],
  ];
}

/** `field:value` lines of CLUSTER INFO or INFO as a record. */
function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

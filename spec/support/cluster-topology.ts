/** One line of CLUSTER NODES: who a node is, what it does, and whether the cluster thinks it failed. */
export interface ClusterNodeView {
  id: string;
  port: number;
  isMaster: boolean;
  /** Flagged `fail` or `fail?` by the node that reported the view. */
  failed: boolean;
  /** For a replica, the id of its master. */
  masterId: string | undefined;
  /** Slot ranges served, e.g. `['0-5460']`; empty for a replica. */
  slots: string[];
}

/** Parses a CLUSTER NODES reply. */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '-', , , , , ...slots] = line.split(' ');
      const roles = flags.split(',');
      return {
        id,
        port: Number(address.split('@')[0]?.split(':').at(-1)),
        isMaster: roles.includes('master'),
        failed: roles.some((role) => role.startsWith('fail')),
        masterId: masterId === '-' ? undefined : masterId,
        slots,
      };
    });
}

/** Ports of the masters that serve slots and are not flagged as failed, sorted. */
export function servingMasterPorts(views: readonly ClusterNodeView[]): number[] {
  return views
    .filter((view) => view.isMaster && !view.failed && view.slots.length > 0)
    .map((view) => view.port)
    .sort((a, b) => a - b);
}

/** Ports of the serving masters that have a replica the cluster does not consider failed. */
export function replicatedMasterPorts(views: readonly ClusterNodeView[]): number[] {
  const replicated = new Set(
    views.filter((view) => !view.isMaster && !view.failed).map((view) => view.masterId),
  );
  return servingMasterPorts(views).filter((port) =>
    views.some((view) => view.port === port && replicated.has(view.id)),
  );
}

import { type CallGuard, type CallGuardConfig, withTimeout } from './call-guard.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** A circuit that opened or closed, and the node (`host:port`) it stands in front of. */
export interface NodeCircuitChange {
  open: boolean;
  node: string;
}

/**
 * One circuit per node of a Redis Cluster, so that a master that stops answering is skipped on its
 * own while the others keep serving their slots. Circuits are made when a node is first called and
 * forgotten when it leaves the topology (a failover hands its slots to a replica at another
 * address), so there is at most one per master the cluster had since the last change.
 *
 * A call of the store is not guarded as a whole ({@link run} lets it through): it may send commands to
 * several nodes, and each of them passes the circuit of its own node ({@link runOn}).
 */
export class NodeCircuits implements CallGuard {
  readonly #config: CallGuardConfig;
  readonly #onChange: (change: NodeCircuitChange) => void;
  readonly #circuits = new Map<string, CircuitBreaker>();
  readonly #open = new Set<string>();

  constructor(config: CallGuardConfig, onChange: (change: NodeCircuitChange) => void) {
    this.#config = config;
    this.#onChange = onChange;
  }

  run<T>(_label: string, task: () => Promise<T>): Promise<T> {
    return task();
  }

  /**
   * Runs a command sent to the node at `node` (`host:port`): refused at once while that node's circuit
   * is open, bounded by `timeoutMs`; its outcome counts towards that circuit only.
   */
  runOn<T>(node: string, label: string, task: () => Promise<T>): Promise<T> {
    const circuit = this.#circuits.get(node) ?? this.#add(node);
    return circuit.execute(() => withTimeout(task(), this.#config.timeoutMs, label, node));
  }

  /**
   * Forgets the circuits of nodes that no longer serve slots, after a change of topology. One that was
   * open is reported closed: no call goes to that node any more, so nothing is skipped because of it.
   */
  retain(nodes: ReadonlySet<string>): void {
    for (const node of [...this.#circuits.keys()]) {
      if (nodes.has(node)) continue;
      this.#circuits.delete(node);
      if (this.#open.delete(node)) this.#onChange({ open: false, node });
    }
  }

  #add(node: string): CircuitBreaker {
    const circuit: CircuitBreaker = new CircuitBreaker(
      { threshold: this.#config.breakerThreshold, halfOpenAfterMs: this.#config.breakerHalfOpenAfterMs },
      (open) => {
        // A probe still under way when its node left the topology must not report a circuit that is gone.
        if (this.#circuits.get(node) !== circuit) return;
        if (open) this.#open.add(node);
        else this.#open.delete(node);
        this.#onChange({ open, node });
      },
    );
    this.#circuits.set(node, circuit);
    return circuit;
  }
}

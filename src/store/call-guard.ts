import { CacheError } from '../errors.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** How long a call may take, and when the circuit in front of the backend opens. */
export interface CallGuardConfig {
  /** Longest wait for one backend call, in milliseconds. */
  timeoutMs: number;
  /** Consecutive outages that open a circuit; 0 disables the breaker. */
  breakerThreshold: number;
  /** How long a circuit stays open before one probe call is let through, in milliseconds. */
  breakerHalfOpenAfterMs: number;
}

/** How `ResilientStore` bounds and guards each call of its store. */
export interface CallGuard {
  /** Runs one call of the store; `label` names it in a timeout's message. */
  run<T>(label: string, task: () => Promise<T>): Promise<T>;
}

/**
 * One circuit in front of the whole backend (one Redis, Sentinel's master, a store of your own): each
 * call is bounded by `timeoutMs` and refused at once while the circuit is open.
 */
export class OneCircuit implements CallGuard {
  readonly #breaker: CircuitBreaker;
  readonly #timeoutMs: number;

  constructor(config: CallGuardConfig, onChange: (open: boolean) => void) {
    this.#timeoutMs = config.timeoutMs;
    this.#breaker = new CircuitBreaker(
      { threshold: config.breakerThreshold, halfOpenAfterMs: config.breakerHalfOpenAfterMs },
      onChange,
    );
  }

  run<T>(label: string, task: () => Promise<T>): Promise<T> {
    return this.#breaker.execute(() => withTimeout(task(), this.#timeoutMs, label));
  }
}

/**
 * `promise`, or a rejection with `E_STORE_TIMEOUT` once `timeoutMs` have passed. `label` (and `node`,
 * the `host:port` the call went to) name the call in the message, which is built only if it times out.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  label: string,
  node?: string,
): Promise<T> {
  // One promise and one timer per call, not a race of two promises and a `finally`: every Redis call
  // passes here.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const call = node === undefined ? label : `${label} to ${node}`;
      reject(new CacheError('E_STORE_TIMEOUT', `${call} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

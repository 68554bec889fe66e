import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';

/** When the circuit opens, and for how long. */
export interface CircuitBreakerConfig {
  /** Consecutive outages that open the circuit; 0 disables the breaker (every call goes through). */
  threshold: number;
  /** How long the circuit stays open before one probe call is let through, in milliseconds. */
  halfOpenAfterMs: number;
}

/**
 * Stops calling a backend that is down: after `threshold` consecutive outages (see {@link isOutage})
 * every call is refused at once, without reaching the backend, until one probe after
 * `halfOpenAfterMs` succeeds. Refused calls reject with an error that {@link isCircuitOpenError}
 * recognises. `onChange` hears the circuit open (`true`) and close again (`false`), once each per
 * outage: a failed probe keeps the circuit open, it does not open it again.
 */
export class CircuitBreaker {
  readonly #policy: CircuitBreakerPolicy | undefined;
  #open = false;

  constructor(config: CircuitBreakerConfig, onChange: (open: boolean) => void) {
    if (config.threshold <= 0) return;
    this.#policy = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: config.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(config.threshold),
    });
    // cockatiel breaks again at every failed half-open probe; for its observers the outage goes on.
    this.#policy.onBreak(() => {
      if (this.#open) return;
      this.#open = true;
      onChange(true);
    });
    this.#policy.onReset(() => {
      this.#open = false;
      onChange(false);
    });
  }

  /** Runs `task` unless the circuit is open; its outcome counts towards opening or closing it. */
  execute<T>(task: () => Promise<T>): Promise<T> {
    // Not an async function: every Redis call passes here, and an extra promise per call is a cost
    // the hit path would pay for nothing.
    if (this.#policy === undefined) return task();
    // cockatiel holds every call behind the half-open probe; a cache must not hold requests
    // behind a Redis that may still be down, so they skip it as while the circuit is open.
    if (this.#policy.state === CircuitState.HalfOpen) return Promise.reject(new BrokenCircuitError());
    return this.#policy.execute(task);
  }
}

/** Whether `error` is a call the open circuit refused (it never reached the backend). */
export function isCircuitOpenError(error: unknown): boolean {
  return error instanceof BrokenCircuitError;
}

/**
 * Whether a failure says Redis is unreachable or too slow (timeouts, connection errors): only those
 * open the circuit. An error reply (OOM, READONLY, WRONGTYPE…) comes from a Redis that answers; it
 * refused one command, and skipping Redis for every key would only lose the hits it still serves.
 * Replies are matched by class name (node-redis `ErrorReply`, ioredis `ReplyError`), so a client
 * built with another copy of the library is recognised too.
 */
export function isOutage(error: unknown): boolean {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name;
    if (name === 'ErrorReply' || name === 'ReplyError') return false;
  }
  return true;
}

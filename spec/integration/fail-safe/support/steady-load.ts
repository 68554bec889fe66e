import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, holdsWithin } from '../../../support/eventually.js';

/** One request of a steady load, as the client saw it. */
export interface LoadSample {
  path: string;
  /** When it was sent, in `performance.now()` milliseconds. */
  sentAtMs: number;
  latencyMs: number;
  /** HTTP status, or 0 when the request failed without one. */
  status: number;
  xCache: string | null;
  body: string;
  error?: string;
}

/** A running steady load: requests go out on a fixed pace, whether earlier ones answered or not. */
export interface SteadyLoad {
  readonly samples: readonly LoadSample[];
  /** Stops sending and resolves with every sample once the requests in flight have answered. */
  stop(): Promise<LoadSample[]>;
}

export interface SteadyLoadOptions {
  baseUrl: string;
  /** Paths requested in turn. */
  paths: readonly string[];
  /** Pause between two sends, in milliseconds. */
  intervalMs: number;
  /** Hard bound on the number of requests, whatever the spec does. */
  maxRequests?: number;
  /** Longest a single request may take before it counts as failed, in milliseconds. */
  requestTimeoutMs?: number;
}

/** Starts an open-loop load: one request every `intervalMs`, bounded in count. */
export function startSteadyLoad(options: SteadyLoadOptions): SteadyLoad {
  const { baseUrl, paths, intervalMs, maxRequests = 2000, requestTimeoutMs = 5000 } = options;
  const samples: LoadSample[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;

  const send = (path: string): Promise<void> => {
    const sentAtMs = performance.now();
    return fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(requestTimeoutMs) })
      .then(async (response) => {
        const body = await response.text();
        samples.push({
          path,
          sentAtMs,
          latencyMs: performance.now() - sentAtMs,
          status: response.status,
          xCache: response.headers.get('x-cache'),
          body,
        });
      })
      .catch((error: unknown) => {
        samples.push({
          path,
          sentAtMs,
          latencyMs: performance.now() - sentAtMs,
          status: 0,
          xCache: null,
          body: '',
          error: error instanceof Error ? error.message : String(error),
        });
      });
  };

  const pacing = (async () => {
    for (let sent = 0; running && sent < maxRequests; sent++) {
      const request = send(paths[sent % paths.length] as string);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      await sleep(intervalMs);
    }
  })();

  return {
    samples,
    stop: async () => {
      running = false;
      await pacing;
      await Promise.all([...inFlight]);
      return [...samples].sort((a, b) => a.sentAtMs - b.sentAtMs);
    },
  };
}

/** Pace of the waits below: a sample list is cheap to read, but the latencies measured share the CPU. */
const WAIT_BOUNDS = { timeoutMs: 20_000, intervalMs: 20 };

/**
 * Waits (20 s at most) for 20 hits with the circuit closed (a busy machine may have opened it): the
 * cache is warm, and the requests answered so far are a baseline of what a request costs now.
 */
export async function warmUp(load: SteadyLoad, isCircuitOpen: () => boolean, message: string): Promise<void> {
  await eventually(() => load.samples.filter((s) => s.xCache === 'HIT').length >= 20 && !isCircuitOpen(), {
    ...WAIT_BOUNDS,
    message,
  });
}

/** Whether a request sent after `sinceMs` got a hit within 20 s (a bound on a hang, not on speed). */
export function hitSince(load: SteadyLoad, sinceMs: number): Promise<boolean> {
  return holdsWithin(() => load.samples.some((s) => s.sentAtMs > sinceMs && s.xCache === 'HIT'), WAIT_BOUNDS);
}

/** The median of `values` (the upper middle one for an even count); 0 when there are none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? 0;
}

/** The largest of `values`; 0 when there are none. */
export function largest(values: readonly number[]): number {
  return Math.max(0, ...values);
}

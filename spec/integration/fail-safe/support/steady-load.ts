import { setTimeout as sleep } from 'node:timers/promises';

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

/** Waits (real time) until `condition` holds, checking every 20 ms; false when `timeoutMs` passed first. */
export async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
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

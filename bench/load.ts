import autocannon from 'autocannon';

/** One autocannon run against a variant. */
export interface LoadOptions {
  port: number;
  durationSeconds: number;
  connections: number;
  /** Fixed request rate over all connections, in requests per second; default: as fast as the server answers. */
  overallRate?: number;
  /** `cycle`: every connection loops over `paths`, each from its own offset. `unique`: a new path per request. */
  paths: { kind: 'cycle'; paths: readonly string[] } | { kind: 'unique'; next: () => string };
}

/** What one run measured. Latencies are of 2xx responses, in milliseconds, with sub-millisecond precision. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  responses2xx: number;
  /** Non-2xx responses, connection errors and timeouts. */
  failures: number;
}

/** Runs autocannon against 127.0.0.1 for a fixed duration. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const common = {
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    duration: options.durationSeconds,
    timeout: 10,
  };
  const { paths } = options;
  const settings: autocannon.Options =
    paths.kind === 'cycle'
      ? {
          ...common,
          requests: paths.paths.map((path) => ({ method: 'GET', path })),
          setupClient: rotateRequests(paths.paths, options.connections),
        }
      : {
          ...common,
          requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths.next() }) }],
        };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(settings, (error: unknown, finished) =>
      error ? reject(error) : resolve(finished),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
    });
  });
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    responses2xx: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Starts connection i at path (i × 100 / connections), so that the connections spread over the
 * URLs instead of all asking for the same one at the same moment.
 */
function rotateRequests(paths: readonly string[], connections: number): (client: autocannon.Client) => void {
  let index = 0;
  return (client) => {
    const offset = Math.floor((index++ * paths.length) / connections) % paths.length;
    const rotated = [...paths.slice(offset), ...paths.slice(0, offset)];
    client.setRequests(rotated.map((path) => ({ method: 'GET', path })));
  };
}

/** autocannon's own histogram keeps whole milliseconds; the miss-path target needs finer. */
class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #count = 0;

  record(valueMs: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = valueMs;
  }

  percentile(percent: number): number {
    if (this.#count === 0) return Number.NaN;
    const sorted = this.#values.subarray(0, this.#count).sort();
    const rank = Math.min(this.#count - 1, Math.ceil((percent / 100) * this.#count) - 1);
    return sorted[Math.max(0, rank)] ?? Number.NaN;
  }
}

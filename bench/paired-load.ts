import { type LoadResult, runLoad } from './load.js';

/** What `bench/paired.ts` asks its load generator for: one burst against one variant. */
export interface BurstRequest {
  port: number;
  seconds: number;
  connections: number;
  /** `cycle`: the 100 item URLs (hits); `unique`: a new URL per request, answered at once (CPU-bound misses). */
  kind: 'cycle' | 'unique';
  paths: readonly string[];
  /** Makes the unique URLs of one burst differ from every other burst's. */
  burst: string;
  /** Fixed request rate over all connections (requests per second); default: as fast as the server answers. */
  rate?: number;
}

// The load generator of `bench/paired.ts`, in a process of its own on the other core: it runs one
// burst per message and answers with its result.
process.on('message', (burst: BurstRequest) => {
  let next = 0;
  runLoad({
    port: burst.port,
    durationSeconds: burst.seconds,
    connections: burst.connections,
    ...(burst.rate === undefined ? {} : { overallRate: burst.rate }),
    paths:
      burst.kind === 'cycle'
        ? { kind: 'cycle', paths: burst.paths }
        : { kind: 'unique', next: () => `/items/${next % 100}?fill=${burst.burst}-${next++}&now=1` },
  }).then(
    (result: LoadResult) => process.send?.(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});

import { ANSWER_AT_ONCE, ITEM_COUNT, itemBody, itemPath } from './fixture-route.js';
import { type LoadOptions, type LoadResult, runLoad } from './load.js';
import type { RunningRedis } from './redis-server.js';
import type { VariantSpec } from './variant-catalog.js';
import { type ServerCounters, VariantProcess, type VariantProcessOptions } from './variant-process.js';

/** Durations and concurrency of one measurement. */
export interface MeasureSettings {
  connections: number;
  hitSeconds: number;
  missSeconds: number;
  warmupSeconds: number;
  /** Fixed request rate for the hit run (a development aid: CPU per request at equal load); default none. */
  hitRate?: number;
  /** Further miss runs, one per concurrency here, each as long as the main miss run; default none. */
  missSweepConnections?: readonly number[];
  /**
   * Length of the CPU-bound miss run (a new URL per request, the handler answering at once, `connections`
   * connections), in seconds; no such run when undefined.
   */
  cpuMissSeconds?: number;
}

/** One measured run, with what the server process did during it. */
interface MeasuredRun extends LoadResult {
  /** Handler runs during the unrecorded warm-up before the run. */
  warmupHandlerRuns: number;
  /** Handler runs during the measured run. */
  handlerRuns: number;
  /** CPU used by the server process during the measured run, in cores (1 = one core fully busy). */
  serverCpuCores: number;
  /** CPU used by the harness (the load generator) during the run, in cores. */
  loadGeneratorCpuCores: number;
  /** Server CPU time per 2xx response, in microseconds: the cost of a request, whatever else runs on the machine. */
  serverCpuMicrosPerResponse: number;
}

/** Where the server runs, and whether its hit run is profiled. */
export interface MeasureOptions extends VariantProcessOptions {
  /** Profile the server during the hit, the miss or the CPU-bound miss run and write the `.cpuprofile` to `file`. */
  profile?: { path: ProfiledPath; file: string };
}

/** The runs that can be profiled. */
export type ProfiledPath = 'hit' | 'miss' | 'cpu-miss';

/** A miss run at another concurrency than the main runs'. */
interface SweepRun {
  connections: number;
  run: MeasuredRun;
}

/** What one variant measured in one round. */
export interface VariantRound {
  hit: MeasuredRun;
  miss: MeasuredRun | undefined;
  /** Miss runs at the concurrencies of `missSweepConnections`, in that order. */
  missSweep: SweepRun[];
  /** The CPU-bound miss run: every request a new URL, the handler answering at once. */
  cpuMiss: MeasuredRun | undefined;
}

const HIT_PATHS: readonly string[] = Array.from({ length: ITEM_COUNT }, (_, id) => itemPath(id));
const MISS_WARMUP_SECONDS = 0.5;
let missCounter = 0;

/** Starts the variant's server on an empty Redis, warms it, measures its hit (and miss) path, stops it. */
export async function measureVariant(
  spec: VariantSpec,
  redis: RunningRedis,
  settings: MeasureSettings,
  options: MeasureOptions = {},
): Promise<VariantRound> {
  await redis.flush();
  const server = await VariantProcess.start(spec.id, redis.url, options);
  try {
    const base = { port: server.port, connections: settings.connections };
    const hitBase = settings.hitRate === undefined ? base : { ...base, overallRate: settings.hitRate };
    // Twice: the first pass fills the cache, the second checks every URL as served from it.
    await fetchAll(server.port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fetchAll(server.port);
    const hit = await measureRun(
      server,
      { ...hitBase, durationSeconds: settings.hitSeconds, paths: { kind: 'cycle', paths: HIT_PATHS } },
      settings.warmupSeconds,
      options.profile?.path === 'hit' ? options.profile.file : undefined,
    );
    if (!spec.measureMiss) return { hit, miss: undefined, missSweep: [], cpuMiss: undefined };
    const missLoad = {
      ...base,
      durationSeconds: settings.missSeconds,
      paths: { kind: 'unique', next: nextMissPath },
    } as const;
    const miss = await measureRun(
      server,
      missLoad,
      Math.min(settings.warmupSeconds, MISS_WARMUP_SECONDS),
      options.profile?.path === 'miss' ? options.profile.file : undefined,
    );
    const missSweep: SweepRun[] = [];
    for (const connections of settings.missSweepConnections ?? []) {
      const run = await measureRun(
        server,
        { ...missLoad, connections },
        Math.min(settings.warmupSeconds, MISS_WARMUP_SECONDS),
      );
      missSweep.push({ connections, run });
    }
    const cpuMiss =
      settings.cpuMissSeconds === undefined
        ? undefined
        : await measureRun(
            server,
            {
              ...base,
              durationSeconds: settings.cpuMissSeconds,
              paths: { kind: 'unique', next: nextCpuMissPath },
            },
            Math.min(settings.warmupSeconds, MISS_WARMUP_SECONDS),
            options.profile?.path === 'cpu-miss' ? options.profile.file : undefined,
          );
    return { hit, miss, missSweep, cpuMiss };
  } finally {
    await server.stop();
  }
}

/** An unrecorded warm-up of `warmupSeconds`, then the measured run, with the server's counters around it. */
async function measureRun(
  server: VariantProcess,
  load: LoadOptions,
  warmupSeconds: number,
  profilePath?: string,
): Promise<MeasuredRun> {
  // Starting the profiler stalls the server for a moment: before the warm-up, so the measured run is clear of it.
  if (profilePath !== undefined) await server.startProfile();
  const start = await server.counters();
  if (warmupSeconds > 0) await runLoad({ ...load, durationSeconds: warmupSeconds });
  const before = await server.counters();
  const startedAt = performance.now();
  const harnessBefore = process.cpuUsage();
  const result = await runLoad(load);
  const harness = process.cpuUsage(harnessBefore);
  const elapsedMicros = (performance.now() - startedAt) * 1000;
  const after: ServerCounters = await server.counters();
  if (profilePath !== undefined) await server.stopProfile(profilePath);
  return {
    ...result,
    warmupHandlerRuns: before.handlerRuns - start.handlerRuns,
    handlerRuns: after.handlerRuns - before.handlerRuns,
    serverCpuCores: (after.cpuMicros - before.cpuMicros) / elapsedMicros,
    loadGeneratorCpuCores: (harness.user + harness.system) / elapsedMicros,
    serverCpuMicrosPerResponse: (after.cpuMicros - before.cpuMicros) / Math.max(1, result.responses2xx),
  };
}

/** A URL no variant has seen: every request of the miss run misses (ids cycle, so bodies keep their size). */
function nextMissPath(): string {
  const count = missCounter++;
  return `${itemPath(count % ITEM_COUNT)}?miss=${process.pid}-${count}`;
}

/** Like {@link nextMissPath}, with the marker that makes the handler answer at once. */
function nextCpuMissPath(): string {
  return `${nextMissPath()}&${ANSWER_AT_ONCE}`;
}

/** Fetches every fixture URL (10 at a time) and checks status and body bytes. */
async function fetchAll(port: number): Promise<void> {
  const ids = Array.from({ length: ITEM_COUNT }, (_, id) => id);
  for (let start = 0; start < ids.length; start += 10) {
    await Promise.all(ids.slice(start, start + 10).map((id) => fetchAndCheck(port, id)));
  }
}

async function fetchAndCheck(port: number, id: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${itemPath(id)}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || !body.equals(itemBody(id))) {
    throw new Error(
      `GET ${itemPath(id)} answered ${response.status} with ${body.length} bytes that differ from the fixture`,
    );
  }
}

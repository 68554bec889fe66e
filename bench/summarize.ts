import type { VariantRound } from './measure-variant.js';
import {
  heapBytesPerEntry,
  MEMORY_BAR,
  type MemoryFootprint,
  redisBytesPerEntry,
} from './memory-footprint.js';
import { median } from './statistics.js';
import type { VariantSpec } from './variant-catalog.js';

/** Medians over the rounds of one variant. */
export interface VariantSummary {
  spec: VariantSpec;
  rounds: number;
  hitRps: number;
  hitP50Ms: number;
  hitP99Ms: number;
  /** Hit throughput of each round, in round order. */
  hitRpsPerRound: number[];
  /** Most handler runs seen during any round's hit run or its warm-up (0: all hits). */
  hitHandlerRuns: number;
  /** CPU used by the server process during the hit run, in cores. */
  hitServerCpuCores: number;
  /** Server CPU time per hit response, in microseconds. */
  hitServerCpuMicros: number;
  missRps: number | undefined;
  missP50Ms: number | undefined;
  missP99Ms: number | undefined;
  missHandlerRunsPerResponse: number | undefined;
  /** Server CPU time per miss response, in microseconds. */
  missServerCpuMicros: number | undefined;
  /** Medians of the miss runs at other concurrencies, in `missSweepConnections` order. */
  missSweep: { connections: number; p50Ms: number }[];
  /** CPU-bound miss run (handler answering at once): misses answered (2xx) per second. */
  cpuMissRps: number | undefined;
  cpuMissP50Ms: number | undefined;
  cpuMissP99Ms: number | undefined;
  /** Server CPU time per miss of the CPU-bound run, in microseconds. */
  cpuMissServerCpuMicros: number | undefined;
  /** CPU used by the server process during the CPU-bound run, in cores: below 1, something else set the pace. */
  cpuMissServerCpuCores: number | undefined;
  cpuMissHandlerRunsPerResponse: number | undefined;
  /** CPU-bound misses per second of each round, in round order. */
  cpuMissRpsPerRound: number[];
  /** Non-2xx responses, errors and timeouts, over every run. */
  failures: number;
}

/** A target of the issue, or an informative comparison, checked against the medians. */
export interface TargetCheck {
  /** `issue`: a target the issue sets; `informative`: an older bar kept for comparison only. */
  kind: 'issue' | 'informative';
  target: string;
  measured: string;
  /** Undefined when a variant it needs was not run. */
  met: boolean | undefined;
}

export function summarize(spec: VariantSpec, rounds: readonly VariantRound[]): VariantSummary {
  const misses = rounds.flatMap((round) => (round.miss === undefined ? [] : [round.miss]));
  const cpuMisses = rounds.flatMap((round) => (round.cpuMiss === undefined ? [] : [round.cpuMiss]));
  const pick = (values: number[]) => (values.length === 0 ? undefined : median(values));
  return {
    spec,
    rounds: rounds.length,
    hitRps: median(rounds.map((round) => round.hit.requestsPerSecond)),
    hitP50Ms: median(rounds.map((round) => round.hit.p50Ms)),
    hitP99Ms: median(rounds.map((round) => round.hit.p99Ms)),
    hitRpsPerRound: rounds.map((round) => round.hit.requestsPerSecond),
    hitHandlerRuns: Math.max(
      0,
      ...rounds.map((round) => round.hit.warmupHandlerRuns + round.hit.handlerRuns),
    ),
    hitServerCpuCores: median(rounds.map((round) => round.hit.serverCpuCores)),
    hitServerCpuMicros: median(rounds.map((round) => round.hit.serverCpuMicrosPerResponse)),
    missRps: pick(misses.map((miss) => miss.requestsPerSecond)),
    missP50Ms: pick(misses.map((miss) => miss.p50Ms)),
    missP99Ms: pick(misses.map((miss) => miss.p99Ms)),
    missHandlerRunsPerResponse: pick(misses.map((miss) => miss.handlerRuns / Math.max(1, miss.responses2xx))),
    missServerCpuMicros: pick(misses.map((miss) => miss.serverCpuMicrosPerResponse)),
    missSweep: sweepMedians(rounds),
    cpuMissRps: pick(cpuMisses.map((miss) => miss.requestsPerSecond)),
    cpuMissP50Ms: pick(cpuMisses.map((miss) => miss.p50Ms)),
    cpuMissP99Ms: pick(cpuMisses.map((miss) => miss.p99Ms)),
    cpuMissServerCpuMicros: pick(cpuMisses.map((miss) => miss.serverCpuMicrosPerResponse)),
    cpuMissServerCpuCores: pick(cpuMisses.map((miss) => miss.serverCpuCores)),
    cpuMissHandlerRunsPerResponse: pick(
      cpuMisses.map((miss) => miss.handlerRuns / Math.max(1, miss.responses2xx)),
    ),
    cpuMissRpsPerRound: cpuMisses.map((miss) => miss.requestsPerSecond),
    failures: rounds.reduce(
      (sum, round) =>
        sum +
        round.hit.failures +
        (round.miss?.failures ?? 0) +
        (round.cpuMiss?.failures ?? 0) +
        round.missSweep.reduce((sweepSum, { run }) => sweepSum + run.failures, 0),
      0,
    ),
  };
}

function sweepMedians(rounds: readonly VariantRound[]): VariantSummary['missSweep'] {
  const concurrencies = [
    ...new Set(rounds.flatMap((round) => round.missSweep.map((run) => run.connections))),
  ];
  return concurrencies.map((connections) => {
    const runs = rounds.flatMap((round) =>
      round.missSweep.filter((sweep) => sweep.connections === connections).map((sweep) => sweep.run),
    );
    return { connections, p50Ms: median(runs.map((run) => run.p50Ms)) };
  });
}

/**
 * The targets, evaluated on the medians, then the older bars it no longer asks for (kept as
 * informative comparisons); `met` is undefined when a variant was not run.
 */
export function checkTargets(summaries: readonly VariantSummary[]): TargetCheck[] {
  const byId = new Map(summaries.map((summary) => [summary.spec.id, summary]));
  const ceiling = byId.get('express-buffer');
  const floor = byId.get('express-slow');
  const tutorial = byId.get('tutorial');
  const apicacheMemory = byId.get('apicache-memory');
  const oursRedis = byId.get('ours-redis');
  const oursMemory = byId.get('ours-memory');
  const checks: TargetCheck[] = [];
  const hitRatio = (kind: TargetCheck['kind'], ours: Side, other: Side, at: number) =>
    checks.push(
      ratioCheck(
        kind,
        `${label(ours)}: hit throughput ≥ ${at} × ${label(other)}`,
        at,
        (o, p) => o.hitRps / p.hitRps,
        ours,
        other,
      ),
    );
  const cpuMissRatio = (kind: TargetCheck['kind'], ours: Side, other: Side, at: number) =>
    checks.push(
      ratioCheck(
        kind,
        `${label(ours)}: CPU-bound misses/s ≥ ${at} × ${label(other)}`,
        at,
        (o, p) => (o.cpuMissRps ?? Number.NaN) / (p.cpuMissRps ?? Number.NaN),
        ours,
        other,
      ),
    );

  hitRatio('issue', side('Redis only', oursRedis), side('ceiling', ceiling), 0.9);
  hitRatio('issue', side('Redis only', oursRedis), side('tutorial', tutorial), 1);
  hitRatio('issue', side('in-process tier', oursMemory), side('ceiling', ceiling), 0.97);
  checks.push(hitP99Check(side('in-process tier', oursMemory), side('apicache memory', apicacheMemory)));
  cpuMissRatio('issue', side('Redis only', oursRedis), side('tutorial', tutorial), 0.9);
  checks.push(cpuPerMissCheck('issue', side('Redis only', oursRedis), tutorial, floor));

  hitRatio(
    'informative',
    side('Redis only', oursRedis),
    side('apicache Redis', byId.get('apicache-redis')),
    1.3,
  );
  hitRatio('informative', side('in-process tier', oursMemory), side('apicache memory', apicacheMemory), 1);
  cpuMissRatio('informative', side('in-process tier', oursMemory), side('tutorial', tutorial), 0.9);
  checks.push(cpuPerMissCheck('informative', side('in-process tier', oursMemory), tutorial, floor));
  for (const ours of [side('Redis only', oursRedis), side('in-process tier', oursMemory)]) {
    const excess = (ours.summary?.missP50Ms ?? Number.NaN) - (floor?.missP50Ms ?? Number.NaN);
    checks.push({
      kind: 'informative',
      target: `${label(ours)}: miss p50 (20 ms handler, main miss run) ≤ the no-cache floor's + 1 ms`,
      measured: Number.isNaN(excess)
        ? 'not run'
        : `${formatSigned(excess)} ms (${ours.summary?.missP50Ms?.toFixed(2)} vs ${floor?.missP50Ms?.toFixed(2)})`,
      met: Number.isNaN(excess) ? undefined : excess <= 1,
    });
  }
  return checks;
}

/** The memory bar: an entry takes at most {@link MEMORY_BAR} × its payload, in Redis and in the tier. */
export function checkMemoryTargets(memory: MemoryFootprint): TargetCheck[] {
  const { redis, heap } = memory;
  return [
    memoryCheck(
      `Redis memory per stored entry (with one tag) ≤ ${MEMORY_BAR} × the payload`,
      typeof redis === 'string'
        ? redis
        : { perEntry: redisBytesPerEntry(redis), payloadBytes: redis.payloadBytes },
    ),
    memoryCheck(
      `In-process tier: process memory per held entry ≤ ${MEMORY_BAR} × the payload`,
      typeof heap === 'string'
        ? heap
        : { perEntry: heapBytesPerEntry(heap), payloadBytes: heap.payloadBytes },
    ),
  ];
}

function memoryCheck(
  target: string,
  measured: { perEntry: number; payloadBytes: number } | string,
): TargetCheck {
  if (typeof measured === 'string')
    return { kind: 'issue', target, measured: 'not measured', met: undefined };
  const ratio = measured.perEntry / measured.payloadBytes;
  return {
    kind: 'issue',
    target,
    measured: `${Math.round(measured.perEntry)} bytes, ${ratio.toFixed(2)} × the ${Math.round(measured.payloadBytes)}-byte body`,
    met: ratio <= MEMORY_BAR,
  };
}

/** A variant a check names, and the name to use when it was not run. */
interface Side {
  name: string;
  summary: VariantSummary | undefined;
}

function side(name: string, summary: VariantSummary | undefined): Side {
  return { name, summary };
}

function label(side: Side): string {
  return side.summary?.spec.label ?? `${side.name} (not run)`;
}

function ratioCheck(
  kind: TargetCheck['kind'],
  target: string,
  at: number,
  ratio: (ours: VariantSummary, other: VariantSummary) => number,
  ours: Side,
  other: Side,
): TargetCheck {
  const value =
    ours.summary !== undefined && other.summary !== undefined
      ? ratio(ours.summary, other.summary)
      : Number.NaN;
  return {
    kind,
    target,
    measured: Number.isNaN(value) ? 'not run' : `${value.toFixed(3)} ×`,
    met: Number.isNaN(value) ? undefined : value >= at,
  };
}

function hitP99Check(ours: Side, other: Side): TargetCheck {
  const run = ours.summary !== undefined && other.summary !== undefined;
  return {
    kind: 'issue',
    target: `${label(ours)}: hit p99 ≤ ${label(other)}'s hit p99`,
    measured: run
      ? `${ours.summary?.hitP99Ms.toFixed(2)} ms vs ${other.summary?.hitP99Ms.toFixed(2)} ms`
      : 'not run',
    met: run ? (ours.summary?.hitP99Ms ?? Number.NaN) <= (other.summary?.hitP99Ms ?? Number.NaN) : undefined,
  };
}

/**
 * What a miss adds to the bare handler's CPU, ours against the tutorial's, in the CPU-bound run:
 * (ours − floor) ≤ 2 × (tutorial − floor), per miss.
 */
function cpuPerMissCheck(
  kind: TargetCheck['kind'],
  ours: Side,
  tutorial: VariantSummary | undefined,
  floor: VariantSummary | undefined,
): TargetCheck {
  const base = floor?.cpuMissServerCpuMicros ?? Number.NaN;
  const oursExtra = (ours.summary?.cpuMissServerCpuMicros ?? Number.NaN) - base;
  const tutorialExtra = (tutorial?.cpuMissServerCpuMicros ?? Number.NaN) - base;
  const value = oursExtra / tutorialExtra;
  const known = !Number.isNaN(oursExtra) && !Number.isNaN(tutorialExtra);
  return {
    kind,
    target: `${label(ours)}: CPU per CPU-bound miss over the no-cache floor's ≤ 2 × the tutorial's over it`,
    measured: known
      ? `${formatSigned(oursExtra, 0)} µs vs ${formatSigned(tutorialExtra, 0)} µs (${value.toFixed(2)} ×; floor ${Math.round(base)} µs)`
      : 'not run',
    met: known ? oursExtra <= 2 * tutorialExtra : undefined,
  };
}

function formatSigned(value: number, digits = 2): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
}

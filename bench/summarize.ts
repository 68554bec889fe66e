import type { VariantRound } from './measure-variant.js';
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
  /** Non-2xx responses, errors and timeouts, over every run. */
  failures: number;
}

/** One target of the issue, checked against the medians. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

export function summarize(spec: VariantSpec, rounds: readonly VariantRound[]): VariantSummary {
  const misses = rounds.flatMap((round) => (round.miss === undefined ? [] : [round.miss]));
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
    failures: rounds.reduce(
      (sum, round) =>
        sum +
        round.hit.failures +
        (round.miss?.failures ?? 0) +
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

/** The targets, evaluated on the medians; `met` is undefined when a variant was not run. */
export function checkTargets(summaries: readonly VariantSummary[]): TargetCheck[] {
  const byId = new Map(summaries.map((summary) => [summary.spec.id, summary]));
  const ceiling = byId.get('express-buffer');
  const floor = byId.get('express-slow');
  const oursRedis = byId.get('ours-redis');
  const oursMemory = byId.get('ours-memory');
  const checks: TargetCheck[] = [];
  const ratio = (
    name: string,
    ours: VariantSummary | undefined,
    other: VariantSummary | undefined,
    at: number,
  ) => {
    const value = ours !== undefined && other !== undefined ? ours.hitRps / other.hitRps : Number.NaN;
    checks.push({
      target: `${ours?.spec.label ?? name}: hit throughput ≥ ${at} × ${other?.spec.label ?? '(not run)'}`,
      measured: Number.isNaN(value) ? 'not run' : `${value.toFixed(3)} ×`,
      met: Number.isNaN(value) ? undefined : value >= at,
    });
  };
  ratio('Redis only', oursRedis, ceiling, 0.9);
  ratio('Redis only', oursRedis, byId.get('apicache-redis'), 1.3);
  ratio('Redis only', oursRedis, byId.get('tutorial'), 1);
  ratio('in-process tier', oursMemory, ceiling, 0.97);
  ratio('in-process tier', oursMemory, byId.get('apicache-memory'), 1);
  for (const ours of [oursRedis, oursMemory]) {
    if (ours === undefined) continue;
    const excess = (ours.missP50Ms ?? Number.NaN) - (floor?.missP50Ms ?? Number.NaN);
    checks.push({
      target: `${ours.spec.label}: miss p50 ≤ floor's miss p50 + 1 ms`,
      measured: Number.isNaN(excess)
        ? 'not run'
        : `${formatSigned(excess)} ms (${ours.missP50Ms?.toFixed(2)} vs ${floor?.missP50Ms?.toFixed(2)})`,
      met: Number.isNaN(excess) ? undefined : excess <= 1,
    });
  }
  const peers = summaries.filter((summary) => summary.spec.role === 'peer' && summary.hitHandlerRuns === 0);
  const fastestPeer = peers.reduce<VariantSummary | undefined>(
    (best, summary) => (best === undefined || summary.hitRps > best.hitRps ? summary : best),
    undefined,
  );
  for (const ours of [oursRedis, oursMemory]) {
    if (ours === undefined) continue;
    checks.push({
      target: `${ours.spec.label}: hit p99 ≤ fastest peer's (${fastestPeer?.spec.label ?? 'none'})`,
      measured:
        fastestPeer === undefined
          ? 'not run'
          : `${ours.hitP99Ms.toFixed(2)} ms vs ${fastestPeer.hitP99Ms.toFixed(2)} ms`,
      met: fastestPeer === undefined ? undefined : ours.hitP99Ms <= fastestPeer.hitP99Ms,
    });
  }
  return checks;
}

function formatSigned(value: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}`;
}

import type { VariantRound } from './measure-variant.js';
import { median } from './statistics.js';
import { BEFORE_PAIRS, type VariantSpec } from './variant-catalog.js';

/** One figure of a variant, before and after, and after ÷ before in each round. */
interface PairedFigure {
  figure: string;
  /** Whether a larger value is better (throughput) or worse (CPU time). */
  better: 'higher' | 'lower';
  beforeMedian: number;
  afterMedian: number;
  /** after ÷ before of each round (the two ran back to back in it), in round order. */
  roundRatios: number[];
  medianRatio: number;
}

/** Our variant at the `--before` revision against the same variant now. */
export interface BeforeAfter {
  before: VariantSpec;
  after: VariantSpec;
  figures: PairedFigure[];
}

const FIGURES: readonly {
  figure: string;
  better: PairedFigure['better'];
  of: (round: VariantRound) => number | undefined;
}[] = [
  { figure: 'hit req/s', better: 'higher', of: (round) => round.hit.requestsPerSecond },
  { figure: 'server CPU per hit (µs)', better: 'lower', of: (round) => round.hit.serverCpuMicrosPerResponse },
  { figure: 'CPU-bound misses/s', better: 'higher', of: (round) => round.cpuMiss?.requestsPerSecond },
  {
    figure: 'server CPU per CPU-bound miss (µs)',
    better: 'lower',
    of: (round) => round.cpuMiss?.serverCpuMicrosPerResponse,
  },
];

/**
 * Pairs each `before-*` variant with its counterpart round by round: the two ran next to each other
 * in every round, so their ratio in a round is freer of the machine's drift than a ratio of medians.
 */
export function compareBeforeAfter(
  specs: readonly VariantSpec[],
  results: ReadonlyMap<string, readonly VariantRound[]>,
): BeforeAfter[] {
  return BEFORE_PAIRS.flatMap((pair) => {
    const before = specs.find((spec) => spec.id === pair.before);
    const after = specs.find((spec) => spec.id === pair.after);
    const beforeRounds = results.get(pair.before) ?? [];
    const afterRounds = results.get(pair.after) ?? [];
    if (before === undefined || after === undefined) return [];
    const rounds = Math.min(beforeRounds.length, afterRounds.length);
    const figures = FIGURES.flatMap(({ figure, better, of }) => {
      const pairs = beforeRounds.slice(0, rounds).map((beforeRound, index) => {
        const afterRound = afterRounds[index];
        return {
          before: of(beforeRound) ?? Number.NaN,
          after: afterRound === undefined ? Number.NaN : (of(afterRound) ?? Number.NaN),
        };
      });
      if (pairs.every((pair) => Number.isNaN(pair.before) || Number.isNaN(pair.after))) return [];
      const roundRatios = pairs.map((pair) => pair.after / pair.before);
      return [
        {
          figure,
          better,
          beforeMedian: median(pairs.map((pair) => pair.before)),
          afterMedian: median(pairs.map((pair) => pair.after)),
          roundRatios,
          medianRatio: median(roundRatios),
        },
      ];
    });
    return [{ before, after, figures }];
  });
}

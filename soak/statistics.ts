/** p50, p99 and the largest of a set of durations, in ms; all 0 for an empty set. */
export interface Spread {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (ms, rounded to 0.1 ms). */
export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (fraction: number) => {
    if (sorted.length === 0) return 0;
    const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
    return round(sorted[Math.max(0, index)] as number);
  };
  return { count: sorted.length, p50: rank(0.5), p99: rank(0.99), max: rank(1) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

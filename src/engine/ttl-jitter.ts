/** A source of uniform random numbers in [0, 1), as `Math.random` is. */
export type RandomSource = () => number;

/**
 * An entry's freshness in milliseconds once jittered: `lifetimeMs` shortened by a uniformly random
 * share of it, at most `fraction`, so that entries written together (a warm-up burst) do not all
 * expire together. The result lies in (`lifetimeMs` × (1 − `fraction`), `lifetimeMs`]: jitter never
 * keeps an entry fresh longer than it was told. `fraction` 0 returns `lifetimeMs` without drawing.
 */
export function jitteredLifetimeMs(lifetimeMs: number, fraction: number, random: RandomSource): number {
  if (fraction === 0) return lifetimeMs;
  return lifetimeMs * (1 - fraction * random());
}

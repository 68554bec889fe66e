import { CacheOptionError } from '../errors.js';
import { describeValue } from '../option-names.js';

/**
 * Histogram buckets (upper bounds, in seconds) per family: `request` for
 * `request_duration_seconds`, `load` for `load_duration_seconds`, `redis` for
 * `redis_duration_seconds`. A family left out keeps its default buckets.
 */
export interface MetricsBuckets {
  request?: readonly number[];
  load?: readonly number[];
  redis?: readonly number[];
}

/** Buckets of every histogram family, defaults applied. */
export type ResolvedMetricsBuckets = Record<keyof MetricsBuckets, readonly number[]>;

// `histogram_quantile` interpolates linearly inside a bucket, so a quantile is only as good as the
// bucket it falls in is narrow: with a step of 15 % between bounds it is off by a few % where the
// observations spread, and by 15 % at worst when they bunch up at one end of a bucket. The bounds are
// that close over the whole range a family's durations may take (a busy host stretches them all),
// and coarse only beyond.

/** Bounds within one decade, times 10ⁿ: no step between neighbours is over 17 %. */
const FINE_STEPS: readonly number[] = [
  1, 1.15, 1.3, 1.5, 1.75, 2, 2.3, 2.6, 3, 3.5, 4, 4.5, 5, 5.7, 6.5, 7.5, 8.7,
];

/**
 * Coarser for requests, whose histogram has a series per route, method, result and status class:
 * no step over 25 %.
 */
const REQUEST_STEPS: readonly number[] = [1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8];

/** Every bound of `steps` × 10ⁿ from `fromSeconds` up to `toSeconds`, both included. */
function decadeBuckets(steps: readonly number[], fromSeconds: number, toSeconds: number): number[] {
  const bounds: number[] = [];
  for (let exponent = Math.floor(Math.log10(fromSeconds)); ; exponent++) {
    for (const step of steps) {
      // Rounded, so that the bound reads as written (0.000115, not 0.00011499999999999999).
      const bound = Number((step * 10 ** exponent).toPrecision(6));
      if (bound > toSeconds) return bounds;
      if (bound >= fromSeconds) bounds.push(bound);
    }
  }
}

/** Requests: a hit from half a millisecond (a few ms over Redis) up to a miss whose handler takes a second; then 2.5, 5 and 10 s. */
const REQUEST_BUCKETS_SECONDS: readonly number[] = [...decadeBuckets(REQUEST_STEPS, 0.0005, 1), 2.5, 5, 10];

/** Loaders: a millisecond of computation up to the ten seconds of a struggling data source. */
const LOAD_BUCKETS_SECONDS: readonly number[] = decadeBuckets(FINE_STEPS, 0.001, 10);

/** Redis round trips: 50 µs on loopback up to 100 ms of a struggling server or host; then 0.25, 0.5 and 1 s. */
const REDIS_BUCKETS_SECONDS: readonly number[] = [...decadeBuckets(FINE_STEPS, 0.00005, 0.1), 0.25, 0.5, 1];

const FAMILIES: Record<keyof MetricsBuckets, true> = { request: true, load: true, redis: true };

/**
 * Checks `createCache`'s `metricsBuckets` and applies the defaults: each list given must hold
 * positive, finite numbers of seconds in strictly ascending order. Throws `CacheOptionError` naming
 * the list and what is wrong with it.
 */
export function resolveMetricsBuckets(buckets: MetricsBuckets | undefined): ResolvedMetricsBuckets {
  if (buckets !== undefined && (typeof buckets !== 'object' || buckets === null || Array.isArray(buckets))) {
    throw new CacheOptionError(
      'createCache: `metricsBuckets` must be an object such as { request: [0.005, 0.1, 1] }',
    );
  }
  for (const name of Object.keys(buckets ?? {})) {
    if (!(name in FAMILIES)) {
      throw new CacheOptionError(
        `createCache: \`metricsBuckets\` has no family \`${name}\` (it takes ${Object.keys(FAMILIES).join(', ')})`,
      );
    }
  }
  return {
    request: checkedBuckets(buckets?.request, 'request') ?? REQUEST_BUCKETS_SECONDS,
    load: checkedBuckets(buckets?.load, 'load') ?? LOAD_BUCKETS_SECONDS,
    redis: checkedBuckets(buckets?.redis, 'redis') ?? REDIS_BUCKETS_SECONDS,
  };
}

function checkedBuckets(bounds: unknown, family: string): readonly number[] | undefined {
  if (bounds === undefined) return undefined;
  const fail = (what: string) =>
    new CacheOptionError(
      `createCache: \`metricsBuckets.${family}\` must be a non-empty array of positive, finite numbers of seconds in ascending order; ${what}`,
    );
  if (!Array.isArray(bounds)) throw fail(`got ${describeValue(bounds)}`);
  if (bounds.length === 0) throw fail('got none');
  bounds.forEach((bound: unknown, index) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      throw fail(`item ${index} is ${describeValue(bound)}`);
    }
    const previous = bounds[index - 1] as number | undefined;
    if (previous !== undefined && bound <= previous) {
      throw fail(`${bound} comes after ${previous}`);
    }
  });
  return Object.freeze([...(bounds as number[])]);
}

/** Whether two bucket lists are the same bounds. */
export function sameBuckets(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((bound, index) => bound === right[index]);
}

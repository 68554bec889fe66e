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
// bucket it falls in is narrow: the bounds are close together (a step of 10 to 50 %) where these
// durations usually lie, and sparse beyond.

/** From a sub-millisecond hit (a few ms over Redis) to a miss whose handler takes seconds. */
const REQUEST_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
  0.11, 0.125, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10,
];

/** Loaders: a millisecond of computation up to seconds of a struggling data source, dense around 100 ms. */
const LOAD_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.11, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
  0.75, 1, 2.5, 5, 10,
];

/** Redis round trips: 50 µs on loopback up to the one-second range of a struggling server. */
const REDIS_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005,
  0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

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

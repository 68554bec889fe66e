import { parseArgs } from 'node:util';

/** What one soak run does; every field comes from the command line (or its default). */
export interface SoakSettings {
  /** Length of the load phase, in minutes (fractions allowed). Default 2, or `SOAK_MINUTES`. */
  minutes: number;
  /** Open-loop GET rate over both instances and both routes. Default 200. */
  getsPerSecond: number;
  /** Open-loop PUT rate. Default 5. */
  putsPerSecond: number;
  /** Products in the data source: few, so that keys are hot. Default 50. */
  products: number;
  /** `memoryTier.ttlMs` of the tiered instance: the documented bound of an old read there. Default 1000. */
  memoryTierTtlMs: number;
  /** Freshness of a cache entry, in seconds. Default 30: long enough for a stale set to show. */
  ttlSeconds: number;
  /** Grace period of a stale entry, in seconds. Default 600. */
  staleTtlSeconds: number;
  /** Serve stale entries at once and refresh in the background (default: stale-if-error). */
  staleWhileRevalidate: boolean;
  /** Longest wait for one Redis call in the apps, in ms. Default 200. */
  redisTimeoutMs: number;
  /** Data source latency range, in ms. Default 5–20. */
  dataSourceLatencyMs: { min: number; max: number };
  /** Longest wait for one request before it counts as failed, in ms. Default 10000. */
  requestTimeoutMs: number;
  /**
   * The apps skip `invalidateTags` yet still acknowledge their PUTs: a run that must report
   * violations, to prove the oracle sees them. Not for real runs.
   */
  skipInvalidation: boolean;
  /** Load only, no fault: a baseline to compare a run with faults against. */
  skipFaults: boolean;
  /** Where the JSON result goes. */
  outputPath: string;
  /** Where every request's record goes as JSON, for a closer look; none by default. */
  recordsPath: string | undefined;
}

const USAGE = `usage: npm run soak -- [--minutes 2] [--gets-per-second 200] [--puts-per-second 5] [--products 50]
  [--memory-tier-ttl-ms 1000] [--ttl-seconds 30] [--stale-ttl-seconds 600] [--stale-while-revalidate]
  [--redis-timeout-ms 200] [--data-source-latency-ms 5-20] [--request-timeout-ms 10000] [--output FILE] [--records FILE]
  [--no-faults] (a baseline) [--no-invalidate] (the oracle's self-check: must report violations)
  (SOAK_MINUTES sets the minutes when --minutes is not given)`;

/** Reads the settings from `args` and the environment; throws with the usage on bad input. */
export function parseSoakSettings(
  args: string[],
  env: NodeJS.ProcessEnv,
  defaultOutputPath: string,
): SoakSettings {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string' },
      'gets-per-second': { type: 'string', default: '200' },
      'puts-per-second': { type: 'string', default: '5' },
      products: { type: 'string', default: '50' },
      'memory-tier-ttl-ms': { type: 'string', default: '1000' },
      'ttl-seconds': { type: 'string', default: '30' },
      'stale-ttl-seconds': { type: 'string', default: '600' },
      'stale-while-revalidate': { type: 'boolean', default: false },
      'redis-timeout-ms': { type: 'string', default: '200' },
      'data-source-latency-ms': { type: 'string', default: '5-20' },
      'request-timeout-ms': { type: 'string', default: '10000' },
      'no-invalidate': { type: 'boolean', default: false },
      'no-faults': { type: 'boolean', default: false },
      output: { type: 'string', default: defaultOutputPath },
      records: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const settings: SoakSettings = {
    minutes: positive(values.minutes ?? env.SOAK_MINUTES ?? '2', 'minutes'),
    getsPerSecond: positive(values['gets-per-second'], 'gets-per-second'),
    putsPerSecond: positive(values['puts-per-second'], 'puts-per-second'),
    products: positiveInteger(values.products, 'products'),
    memoryTierTtlMs: positiveInteger(values['memory-tier-ttl-ms'], 'memory-tier-ttl-ms'),
    ttlSeconds: positive(values['ttl-seconds'], 'ttl-seconds'),
    staleTtlSeconds: positive(values['stale-ttl-seconds'], 'stale-ttl-seconds'),
    staleWhileRevalidate: values['stale-while-revalidate'],
    redisTimeoutMs: positiveInteger(values['redis-timeout-ms'], 'redis-timeout-ms'),
    dataSourceLatencyMs: latencyRange(values['data-source-latency-ms']),
    requestTimeoutMs: positiveInteger(values['request-timeout-ms'], 'request-timeout-ms'),
    skipInvalidation: values['no-invalidate'],
    skipFaults: values['no-faults'],
    outputPath: values.output,
    recordsPath: values.records,
  };
  return settings;
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${text}\n${USAGE}`);
  return value;
}

function positiveInteger(text: string, name: string): number {
  const value = positive(text, name);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be a whole number, got ${text}\n${USAGE}`);
  return value;
}

function latencyRange(text: string): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (match === null || min > max)
    throw new Error(`--data-source-latency-ms must look like 5-20, got ${text}\n${USAGE}`);
  return { min, max };
}

import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { createCache } from '../../../src/create-cache.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { silentLogger } from '../../support/silent-logger.js';

/** A metric family as the code registers it. */
export interface Family {
  name: string;
  type: string;
}

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Every family that a cache registers, with its type. */
export function registeredFamilies(): Family[] {
  const registry = new Registry();
  createCache({ store: new MemoryStore(), registry, logger: silentLogger });
  return registry.getMetricsAsArray().map((metric) => ({ name: metric.name, type: typeOf(metric) }));
}

// By class: prom-client 14's metric objects have no `type` property (15's have).
function typeOf(metric: object): string {
  if (metric instanceof Histogram) return 'histogram';
  if (metric instanceof Counter) return 'counter';
  if (metric instanceof Gauge) return 'gauge';
  if (metric instanceof Summary) return 'summary';
  return 'unknown';
}

/** The family a sample name (`…_bucket`, `…_count` and `…_sum` for a histogram) belongs to. */
export function familyOfSample(sample: string): string {
  return sample.replace(HISTOGRAM_SUFFIX, '');
}

/**
 * Why `sample` cannot be read from `families`: not registered, or a histogram read without its
 * suffix (or another type with one). Undefined when it can.
 */
export function sampleProblem(sample: string, families: readonly Family[]): string | undefined {
  const family =
    families.find((candidate) => candidate.name === sample) ??
    families.find((candidate) => candidate.name === familyOfSample(sample));
  if (family === undefined) return `${sample} is not registered by the code`;
  if ((family.type === 'histogram') !== (sample !== family.name))
    return `${sample} suffix vs. type ${family.type}`;
  return undefined;
}

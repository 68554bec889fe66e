import type { Registry, RegistryContentType } from 'prom-client';

type Labels = Record<string, string | number>;

interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/**
 * The value of one sample as a scrape would show it: `name` is the sample name (`…_total`,
 * `…_bucket`, `…_count`…), `labels` must all match (others may be present). `undefined` when
 * the series does not exist.
 */
export async function sampleValue(
  registry: Registry<RegistryContentType>,
  name: string,
  labels: Labels = {},
): Promise<number | undefined> {
  const familyName = registry.getSingleMetric(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
  const family = registry.getSingleMetric(familyName);
  if (family === undefined) throw new Error(`no metric family ${familyName} in the registry`);
  const { values } = (await family.get()) as { values: Sample[] };
  const matching = values.filter(
    (sample) =>
      (sample.metricName ?? familyName) === name &&
      Object.entries(labels).every(([label, value]) => String(sample.labels[label]) === String(value)),
  );
  if (matching.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} series`);
  return matching[0]?.value;
}

/** Names of the metric families in `registry`, sorted. */
export function familyNames(registry: Registry<RegistryContentType>): string[] {
  return registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .sort();
}

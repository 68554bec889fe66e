import { type Metric, type OpenMetricsContentType, Registry, type RegistryContentType } from 'prom-client';

/** A rendered scrape: the body and its `Content-Type`. */
export interface RenderedMetrics {
  body: string;
  contentType: string;
}

/**
 * Renders `registry` in the OpenMetrics format when `openMetrics` is true, otherwise in the
 * registry's own format. A Prometheus-format registry is rendered as OpenMetrics through a view:
 * prom-client renames counters (drops `_total`) on the very metric objects it renders as
 * OpenMetrics, which would corrupt every later Prometheus-format scrape of the same registry.
 */
export async function renderMetrics(
  registry: Registry<RegistryContentType>,
  openMetrics: boolean,
): Promise<RenderedMetrics> {
  if (!openMetrics || registry.contentType === Registry.OPENMETRICS_CONTENT_TYPE) {
    return { body: await registry.metrics(), contentType: registry.contentType };
  }
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // Each view inherits its metric's values and methods; writes such as the rename land on the view.
  for (const metric of registry.getMetricsAsArray()) view.registerMetric(Object.create(metric) as Metric);
  view.setDefaultLabels(defaultLabelsOf(registry));
  return { body: await view.metrics(), contentType: view.contentType };
}

// prom-client has a setter for default labels but no getter; the spec of metricsHandler pins this.
function defaultLabelsOf(registry: Registry<RegistryContentType>): Record<string, string> {
  return { ...(registry as unknown as { _defaultLabels?: Record<string, string> })._defaultLabels };
}

const OPEN_METRICS_TYPE = 'application/openmetrics-text';
const TEXT_TYPES = new Set(['text/plain', 'text/*', '*/*']);

/**
 * Whether a scraper's `Accept` header ranks the OpenMetrics format at least as high as the
 * Prometheus text format (RFC 9110 §12.5.1 quality values). Prometheus itself sends
 * `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let openMetricsQuality = 0;
  let textQuality = 0;
  for (const range of accept.split(',')) {
    const [mediaType = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = qualityOf(parameters);
    if (mediaType === OPEN_METRICS_TYPE) openMetricsQuality = Math.max(openMetricsQuality, quality);
    else if (TEXT_TYPES.has(mediaType)) textQuality = Math.max(textQuality, quality);
  }
  return openMetricsQuality > 0 && openMetricsQuality >= textQuality;
}

function qualityOf(parameters: readonly string[]): number {
  const q = parameters.find((parameter) => parameter.startsWith('q='));
  if (q === undefined) return 1;
  const value = Number(q.slice(2));
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { register as defaultRegistry, type Registry, type RegistryContentType } from 'prom-client';
import { prefersOpenMetrics } from './prefers-open-metrics.js';
import { type RenderedMetrics, renderMetrics } from './render-metrics.js';

/** A request handler for Express (or `node:http`) that serves a Prometheus scrape. */
export type MetricsHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * Serves `registry` (default: prom-client's default registry, where caches put their metrics
 * unless told otherwise) for Prometheus: the OpenMetrics format when the scraper's `Accept` header
 * prefers it, the Prometheus text format otherwise, with the matching `Content-Type`. A failing
 * collector is passed to `next` (or answered with a 500 without it).
 *
 * @example app.get('/metrics', metricsHandler());
 */
export function metricsHandler(registry: Registry<RegistryContentType> = defaultRegistry): MetricsHandler {
  return async (req, res, next) => {
    let rendered: RenderedMetrics;
    try {
      rendered = await renderMetrics(registry, prefersOpenMetrics(req.headers.accept));
    } catch (error) {
      if (next !== undefined) return next(error);
      res.statusCode = 500;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', rendered.contentType);
    // A scrape is a snapshot: no proxy or response cache may replay it.
    res.setHeader('Cache-Control', 'no-store');
    res.end(rendered.body);
  };
}

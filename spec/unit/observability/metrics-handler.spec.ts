import { createServer } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { Gauge, register as globalRegistry, type OpenMetricsContentType, Registry } from 'prom-client';
import request from 'supertest';
import { createCache } from '../../../src/create-cache.js';
import { metricsHandler } from '../../../src/index.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { silentLogger } from '../../support/silent-logger.js';

// What Prometheus 2.x sends when it scrapes.
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const OPEN_METRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

describe('metricsHandler', () => {
  let registry: Registry;

  beforeEach(() => {
    registry = new Registry();
    createCache({
      store: new MemoryStore(),
      prefix: 'shop:',
      registry,
      logger: silentLogger,
    });
  });

  function appServing(handlerRegistry: Registry | Registry<OpenMetricsContentType> = registry) {
    return express().get('/metrics', metricsHandler(handlerRegistry));
  }

  it('serves the Prometheus text format to a scraper that does not ask for OpenMetrics', async () => {
    const response = await request(appServing()).get('/metrics').expect(200);
    expect(response.headers['content-type']).to.equal(TEXT_CONTENT_TYPE);
    expect(response.headers['cache-control']).to.equal('no-store');
    expect(response.text).to.include('# TYPE cache_aside_lookups_total counter');
    expect(response.text).to.include('cache_aside_lookups_total{cache="shop",result="hit"} 0');
  });

  it('serves OpenMetrics to a scraper that prefers it, as Prometheus does', async () => {
    const response = await request(appServing()).get('/metrics').set('Accept', PROMETHEUS_ACCEPT).expect(200);
    expect(response.headers['content-type']).to.equal(OPEN_METRICS_CONTENT_TYPE);
    expect(response.text).to.include('# TYPE cache_aside_lookups counter');
    expect(response.text).to.include('cache_aside_lookups_total{cache="shop",result="hit"} 0');
    expect(response.text).to.include('cache_aside_load_duration_seconds_bucket{le="+Inf",cache="shop"} 0');
    expect(response.text.endsWith('# EOF\n')).to.equal(true);
  });

  it('keeps counter names intact for text scrapes that follow an OpenMetrics scrape', async () => {
    const app = appServing();
    await request(app).get('/metrics').set('Accept', PROMETHEUS_ACCEPT).expect(200);
    const response = await request(app).get('/metrics').set('Accept', 'text/plain').expect(200);
    expect(response.text).to.include('# TYPE cache_aside_lookups_total counter');
    expect(response.text).to.include('cache_aside_lookups_total{cache="shop",result="miss"} 0');
  });

  it('keeps the registry’s default labels in OpenMetrics', async () => {
    registry.setDefaultLabels({ service: 'shop-api' });
    const response = await request(appServing()).get('/metrics').set('Accept', PROMETHEUS_ACCEPT).expect(200);
    expect(response.text).to.include('cache_aside_coalesced_total{cache="shop",service="shop-api"} 0');
  });

  it('serves an OpenMetrics registry as OpenMetrics', async () => {
    const openMetricsRegistry = new Registry<OpenMetricsContentType>();
    openMetricsRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    new Gauge({ name: 'queue_depth', help: 'Jobs waiting.', registers: [openMetricsRegistry] }).set(3);
    const response = await request(appServing(openMetricsRegistry)).get('/metrics').expect(200);
    expect(response.headers['content-type']).to.equal(OPEN_METRICS_CONTENT_TYPE);
    expect(response.text).to.include('queue_depth 3');
  });

  it('serves prom-client’s default registry when given none', async () => {
    const response = await request(express().get('/metrics', metricsHandler())).get('/metrics').expect(200);
    expect(response.text).to.equal(await globalRegistry.metrics());
  });

  it('passes a failing collector to next, so the application’s error handler answers', async () => {
    new Gauge({
      name: 'broken_gauge',
      help: 'Its collector throws.',
      registers: [registry],
      collect() {
        throw new Error('collector failed');
      },
    });
    const app = appServing().use(
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(503).send(`handled: ${error.message}`);
      },
    );
    const response = await request(app).get('/metrics').expect(503);
    expect(response.text).to.equal('handled: collector failed');
  });

  it('works as a plain node:http handler, answering 500 when a collector fails', async () => {
    const handler = metricsHandler(registry);
    const server = createServer((req, res) => void handler(req, res));
    await request(server).get('/').expect(200).expect('content-type', TEXT_CONTENT_TYPE);

    new Gauge({
      name: 'broken_gauge',
      help: 'Its collector rejects.',
      registers: [registry],
      collect: () => Promise.reject(new Error('collector failed')),
    });
    await request(server).get('/').expect(500);
  });
});

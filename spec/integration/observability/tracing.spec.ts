import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { responseCache } from '../../../src/http/response-cache.js';
import { responseCacheKey } from '../../../src/http/response-cache-key.js';
import { hashCacheKey } from '../../../src/observability/cache-logger.js';
import { connectRedis, type RedisConnection } from '../../../src/redis-connection.js';
import { eventually } from '../../support/eventually.js';
import { parentIdOf, useRecordedSpans } from '../../support/recorded-spans.js';
import { type RedisClient, useConnectedRedis, useRedisPerTest } from '../../support/redis-server-fixture.js';
import { originOf, served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

// What a user of an OpenTelemetry SDK sees of the cache: spans under each request's own span, over a
// real Redis. The request's span is made here as an HTTP server instrumentation makes it.

/** A marker in the URLs of these specs: no span may hold it, as keys and URLs can hold user data. */
const MARKER = 'alice@example.com';

interface TracedApp {
  app: express.Express;
  /** The span of each request, in arrival order. */
  requestSpans: Span[];
}

/** An app whose requests each run in a span of their own; `/items/:id` is cached, tagged `item:<id>`. */
function tracedApp(cache: Cache): TracedApp {
  const requestSpans: Span[] = [];
  const app = express();
  app.use((req, res, next) => {
    const span = trace.getTracer('http-server').startSpan(`${req.method} request`);
    requestSpans.push(span);
    res.once('finish', () => span.end());
    context.with(trace.setSpan(context.active(), span), next);
  });
  app.get('/items/:id', responseCache(cache, { tags: (req) => [`item:${req.params.id}`] }), (req, res) => {
    // What the handler does (a query, say) shows in the trace under what made it run.
    trace.getTracer('app').startSpan('query').end();
    res.json({ id: req.params.id });
  });
  app.post('/items/:id/purge', async (req, res) => {
    res.json({ deleted: await cache.invalidateTags([`item:${req.params.id}`]) });
  });
  return { app, requestSpans };
}

const idOf = (span: ReadableSpan | Span) => span.spanContext().spanId;

/** Everything a span holds that a reader of the trace sees. */
function shownIn(span: ReadableSpan): string {
  return JSON.stringify([span.name, span.attributes, span.events, span.status, span.links]);
}

describe('OpenTelemetry spans of responseCache over a real Redis', function () {
  this.timeout(30_000);
  const redis = useConnectedRedis();
  const spans = useRecordedSpans();
  let cache: Cache;

  beforeEach(async () => {
    await redis.client.flushAll();
    cache = createCache({ redis: redis.client, prefix: 'traced:', registry: false, logger: silentLogger });
  });

  afterEach(async () => {
    await cache.close();
  });

  it("makes a miss a cache.lookup under the request's span, with cache.load and cache.write under it", async () => {
    const { app, requestSpans } = tracedApp(cache);
    const server = await served(app);
    const path = `/items/${MARKER}`;

    const response = await request(server).get(path);
    expect(response.headers['x-cache']).to.equal('MISS');
    // The lookup of a miss ends once the response it captured is written, after the client got it.
    await eventually(() => spans.one('cache.lookup'));

    const lookup = spans.one('cache.lookup');
    const load = spans.one('cache.load');
    const write = spans.one('cache.write');
    expect(parentIdOf(lookup)).to.equal(idOf(requestSpans[0] as Span));
    expect(parentIdOf(load)).to.equal(idOf(lookup));
    expect(parentIdOf(write)).to.equal(idOf(lookup));
    expect(parentIdOf(spans.one('query'))).to.equal(idOf(load));
    const keyHash = hashCacheKey(cache.entryKey(responseCacheKey({ url: path, origin: originOf(server) })));
    expect(lookup.attributes).to.deep.equal({
      'cache.name': 'traced',
      'cache.key_hash': keyHash,
      'http.route': '/items/:id',
      'cache.result': 'miss',
    });
    expect(load.attributes).to.include({
      'cache.key_hash': keyHash,
      'cache.cause': 'miss',
      'cache.result': 'ok',
    });
    expect(write.attributes).to.include({ 'cache.key_hash': keyHash, 'cache.result': 'stored' });
    for (const span of spans.all()) expect(shownIn(span)).to.not.include(MARKER);
  });

  it("makes a hit one cache.lookup under the request's span, result hit", async () => {
    const { app, requestSpans } = tracedApp(cache);
    const server = await served(app);
    await request(server).get(`/items/${MARKER}`);
    await eventually(() => spans.one('cache.lookup'));
    const before = spans.all().length;

    const response = await request(server).get(`/items/${MARKER}`);
    expect(response.headers['x-cache']).to.equal('HIT');
    await eventually(() => spans.all().length > before + 1);

    const recorded = spans.all().slice(before);
    expect(recorded.map((span) => span.name)).to.deep.equal(['cache.lookup', 'GET request']);
    expect(recorded[0]?.attributes).to.include({ 'cache.result': 'hit', 'http.route': '/items/:id' });
    expect(parentIdOf(recorded[0] as ReadableSpan)).to.equal(idOf(requestSpans[1] as Span));
  });

  it('makes an invalidation a cache.invalidate span under the request that asked for it', async () => {
    const { app, requestSpans } = tracedApp(cache);
    const server = await served(app);
    await request(server).get('/items/1');
    await eventually(() => spans.one('cache.lookup'));

    const purged = await request(server).post('/items/1/purge');
    expect(purged.body).to.deep.equal({ deleted: 1 });

    const invalidate = spans.one('cache.invalidate');
    expect(parentIdOf(invalidate)).to.equal(idOf(requestSpans[1] as Span));
    expect(invalidate.attributes).to.deep.equal({
      'cache.name': 'traced',
      'cache.invalidation.kind': 'tag',
      'cache.invalidation.count': 1,
    });
    expect(invalidate.status.code).to.equal(SpanStatusCode.UNSET);
  });

  it('marks the lookup that Redis answered with an error, and still serves the request', async () => {
    const { app } = tracedApp(cache);
    const server = await served(app);
    const path = `/items/${MARKER}`;
    // A key of the wrong type: GET fails with WRONGTYPE, a failure of Redis, not of the connection.
    const entryKey = cache.entryKey(responseCacheKey({ url: path, origin: originOf(server) }));
    await (redis.client as RedisClient).hSet(entryKey, 'field', 'value');

    const response = await request(server).get(path);
    expect([response.status, response.headers['x-cache']]).to.deep.equal([200, 'MISS']);
    await eventually(() => spans.one('cache.lookup'));

    const lookup = spans.one('cache.lookup');
    expect(lookup.status.code).to.equal(SpanStatusCode.ERROR);
    expect(lookup.status.message).to.include('WRONGTYPE');
    expect(lookup.attributes).to.include({ 'cache.operation': 'get', 'error.type': 'E_STORE_FAILED' });
    for (const span of spans.all()) expect(shownIn(span)).to.not.include(MARKER);
  });
});

describe('OpenTelemetry spans of responseCache while Redis is down', function () {
  this.timeout(30_000);
  const spans = useRecordedSpans();
  let client: RedisConnection | undefined;
  let cache: Cache | undefined;
  const redis = useRedisPerTest(async () => {
    await cache?.close();
    client?.destroy();
    cache = undefined;
    client = undefined;
  });

  it("marks the lookup's span with the Redis operation and E_STORE_FAILED; the handler answers", async () => {
    client = await connectRedis({ url: redis.current.url, maxReconnectDelayMs: 100 });
    cache = createCache({ redis: client, prefix: 'down:', registry: false, logger: silentLogger });
    const { app } = tracedApp(cache);
    const server = await served(app);
    await redis.current.stop();
    await eventually(() => client?.isReady === false, { message: 'the client sees Redis gone' });

    const response = await request(server).get('/items/1');
    expect([response.status, response.headers['x-cache']]).to.deep.equal([200, 'MISS']);
    await eventually(() => spans.one('cache.lookup'));

    const lookup = spans.one('cache.lookup');
    expect(lookup.status.code).to.equal(SpanStatusCode.ERROR);
    expect(lookup.attributes).to.include({ 'cache.operation': 'get', 'error.type': 'E_STORE_FAILED' });
    expect(spans.one('cache.load').attributes['cache.result']).to.equal('ok');
  });
});

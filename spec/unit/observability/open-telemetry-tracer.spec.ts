import { ProxyTracer, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import sinon from 'sinon';
import { assembleCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { KeySpace } from '../../../src/engine/key-space.js';
import { CacheError } from '../../../src/errors.js';
import { hashCacheKey } from '../../../src/observability/cache-logger.js';
import type { CacheOptions } from '../../../src/options.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import type { Serializer } from '../../../src/serialization/serializer.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { deferred } from '../../support/deferred.js';
import { parentIdOf, useRecordedSpans } from '../../support/recorded-spans.js';
import { rejectionOf } from '../../support/rejection-of.js';
import { silentLogger } from '../../support/silent-logger.js';
import { makeCache } from '../engine/make-cache.js';

/** Runs `work` inside a span of the spec's own, as a request's span would be; `work` is given it. */
async function underCallerSpan<T>(work: (caller: Span) => Promise<T>): Promise<{ value: T; caller: Span }> {
  return trace.getTracer('spec').startActiveSpan('caller', async (caller) => {
    try {
      return { value: await work(caller), caller };
    } finally {
      caller.end();
    }
  });
}

const idOf = (span: ReadableSpan | Span) => span.spanContext().spanId;

/** `Date` alone is faked: entries go stale while promises and timers run as usual. */
function fakeDate(): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
}

/** A module loader as in an app without `@opentelemetry/api` installed. */
function notInstalled(name: string): never {
  throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
}

const cacheOptions: CacheOptions = {
  store: new MemoryStore(),
  prefix: 'test:',
  registry: false,
  logger: silentLogger,
};

describe('OpenTelemetry spans of a cache (in-memory SDK)', () => {
  const spans = useRecordedSpans();
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  describe('lookups', () => {
    it('makes a miss one cache.lookup span under the caller, with cache.load and cache.write under it', async () => {
      const cache = makeCache();
      const { caller } = await underCallerSpan(() => cache.get('item:1', () => 'one'));

      const lookup = spans.one('cache.lookup');
      const load = spans.one('cache.load');
      const write = spans.one('cache.write');
      expect(parentIdOf(lookup)).to.equal(idOf(caller));
      expect(parentIdOf(load)).to.equal(idOf(lookup));
      expect(parentIdOf(write)).to.equal(idOf(lookup));
      for (const span of [lookup, load, write]) {
        expect(span.spanContext().traceId).to.equal(caller.spanContext().traceId);
        expect(span.attributes).to.include({
          'cache.name': 'test',
          'cache.key_hash': hashCacheKey('test:item:1'),
        });
        expect(span.status.code).to.equal(SpanStatusCode.UNSET);
      }
      expect(lookup.attributes['cache.result']).to.equal('miss');
      expect(load.attributes).to.include({ 'cache.result': 'ok', 'cache.cause': 'miss' });
      expect(write.attributes['cache.result']).to.equal('stored');
    });

    it('makes a hit one cache.lookup span, result hit, and nothing else', async () => {
      const cache = makeCache();
      await cache.set('item:1', 'one');
      const before = spans.all().length;
      const { caller } = await underCallerSpan(() => cache.get('item:1', () => 'loaded'));

      const recorded = spans.all().slice(before);
      expect(recorded.map((span) => span.name)).to.deep.equal(['cache.lookup', 'caller']);
      expect(recorded[0]?.attributes['cache.result']).to.equal('hit');
      expect(parentIdOf(recorded[0] as ReadableSpan)).to.equal(idOf(caller));
    });

    it('never records the key itself, only its hash', async () => {
      const cache = makeCache();
      const key = 'user:alice@example.com';
      await underCallerSpan(async () => {
        await cache.get(key, () => 'alice');
        await cache.get(key, () => 'alice');
        await cache.invalidate(key);
      });

      expect(spans.named('cache.lookup')).to.have.length(2);
      expect(spans.one('cache.invalidate').attributes['cache.key_hash']).to.equal(
        hashCacheKey(`test:${key}`),
      );
      for (const span of spans.all()) {
        const recorded = JSON.stringify([span.name, span.attributes, span.events, span.status, span.links]);
        expect(recorded).to.not.include('alice');
      }
    });

    it('records the route the lookup serves as http.route', async () => {
      const cache = makeCache();
      await cache.get('item:1', () => 'one', { route: '/items/:id' });
      await cache.getMany(['item:1'], () => ['one'], { route: '/items' });

      const [single, many] = spans.named('cache.lookup');
      expect(single?.attributes['http.route']).to.equal('/items/:id');
      expect(many?.attributes['http.route']).to.equal('/items');
    });

    it('refuses a route that is not a string', async () => {
      const error = await rejectionOf(makeCache().get('k', () => 'v', { route: 42 as unknown as string }));
      expect(error).to.be.instanceOf(TypeError).with.property('message').that.includes('`route`');
    });

    it('says when a lookup shared the load of another', async () => {
      const cache = makeCache();
      const source = deferred<string>();
      const first = cache.get('item:1', () => source.promise);
      const second = cache.get('item:1', () => 'second');
      source.resolve('first');
      expect(await Promise.all([first, second])).to.deep.equal(['first', 'first']);

      const coalesced = spans.named('cache.lookup').map((span) => span.attributes['cache.coalesced']);
      expect(coalesced).to.deep.equal([undefined, true]);
      expect(spans.named('cache.load')).to.have.length(1);
    });

    it('makes getMany one cache.lookup span with its key and hit counts, and one batch cache.load', async () => {
      const cache = makeCache();
      await cache.set('a', 'A');
      await cache.getMany(['a', 'b', 'c'], (keys) => keys.map((key) => key.toUpperCase()));
      await cache.getMany(['a', 'b'], () => []);

      const [partial, full] = spans.named('cache.lookup');
      expect(partial?.attributes).to.include({
        'cache.key_count': 3,
        'cache.hit_count': 1,
        'cache.result': 'miss',
      });
      expect(partial?.attributes['cache.key_hash']).to.equal(undefined);
      expect(full?.attributes).to.include({
        'cache.key_count': 2,
        'cache.hit_count': 2,
        'cache.result': 'hit',
      });
      expect(spans.one('cache.load').attributes).to.include({ 'cache.key_count': 2, 'cache.result': 'ok' });
      expect(parentIdOf(spans.one('cache.load'))).to.equal(idOf(partial as ReadableSpan));
      expect(spans.named('cache.write')).to.have.length(3);
    });
  });

  describe('failures', () => {
    it('marks a failing loader: cache.load and cache.lookup are errors, with error.type and the exception', async () => {
      const cache = makeCache();
      await rejectionOf(
        cache.get('item:1', () => {
          throw new RangeError('the source is down');
        }),
      );

      const load = spans.one('cache.load');
      expect(load.attributes).to.include({ 'cache.result': 'error', 'error.type': 'RangeError' });
      expect(load.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'the source is down' });
      expect(load.events.map((event) => event.name)).to.deep.equal(['exception']);
      const lookup = spans.one('cache.lookup');
      expect(lookup.status.code).to.equal(SpanStatusCode.ERROR);
      expect(lookup.attributes).to.include({ 'cache.result': 'miss', 'error.type': 'RangeError' });
    });

    it("names a rejection that is no Error '_OTHER', without an exception event", async () => {
      await rejectionOf(makeCache().get('item:1', () => Promise.reject('nope')));

      const load = spans.one('cache.load');
      expect(load.attributes['error.type']).to.equal('_OTHER');
      expect(load.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'nope' });
      expect(load.events).to.deep.equal([]);
    });

    it('marks the lookup whose Redis read failed, with the operation and the error code', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('connection lost'), { only: ['get'] });
      const cache = makeCache({ store, circuitBreakerThreshold: 0 });
      expect(await cache.get('item:1', () => 'one')).to.equal('one');

      const lookup = spans.one('cache.lookup');
      expect(lookup.attributes).to.include({
        'cache.result': 'miss',
        'cache.operation': 'get',
        'error.type': 'E_STORE_FAILED',
      });
      expect(lookup.status).to.deep.equal({
        code: SpanStatusCode.ERROR,
        message: 'get failed: connection lost',
      });
      // The loader ran; its value was not stored, Redis being unreachable as the load began.
      expect(spans.one('cache.load').status.code).to.equal(SpanStatusCode.UNSET);
      expect(spans.one('cache.write').attributes).to.include({
        'cache.result': 'refused',
        'cache.reason': 'lease-unavailable',
      });
    });

    it('marks the lookup of an entry that does not decode E_DECODE_FAILED', async () => {
      const picky: Serializer = {
        name: 'picky',
        serialize: (value) => jsonSerializer.serialize(value),
        deserialize: () => {
          throw new Error('unexpected token');
        },
      };
      const cache = makeCache({ serializer: picky });
      await cache.set('item:1', 'one');
      await cache.get('item:1', () => 'reloaded');

      const lookup = spans.one('cache.lookup');
      expect(lookup.attributes).to.include({ 'cache.operation': 'decode', 'error.type': 'E_DECODE_FAILED' });
      expect(lookup.status.code).to.equal(SpanStatusCode.ERROR);
    });

    it("leaves the caller's span alone when a call outside the cache's spans fails", async () => {
      const store = new ChaosStore().alwaysThrow(new Error('down'), { only: ['ttlSeconds'] });
      const cache = makeCache({ store });
      await underCallerSpan(() => rejectionOf(cache.ttl('item:1')));
      await rejectionOf(cache.ttl('item:1'));

      expect(spans.one('caller').status.code).to.equal(SpanStatusCode.UNSET);
      expect(spans.one('caller').attributes).to.deep.equal({});
    });
  });

  describe('writes', () => {
    it('says a value was skipped: nothing to store, or not fresh', async () => {
      const cache = makeCache();
      await cache.get('empty', () => null);
      await cache.set('zero', 'v', { ttl: 0 });

      const [empty, zero] = spans.named('cache.write');
      expect(empty?.attributes).to.include({ 'cache.result': 'skipped', 'cache.reason': 'no-value' });
      expect(zero?.attributes).to.include({ 'cache.result': 'skipped', 'cache.reason': 'not-fresh' });
    });

    it('says a write was refused because an invalidation came after its load began', async () => {
      const cache = makeCache();
      const source = deferred<string>();
      const started = deferred<void>();
      const loaded = cache.get('item:1', () => {
        started.resolve();
        return source.promise;
      });
      await started.promise;
      await cache.invalidate('item:1');
      source.resolve('old');
      await loaded;

      expect(spans.one('cache.write').attributes).to.include({
        'cache.result': 'refused',
        'cache.reason': 'invalidated',
      });
    });

    it('says a write was refused for want of a lease when Redis failed as the load began', async () => {
      const store = new ChaosStore().failNext(1, new Error('down'), { only: ['readLease'] });
      const cache = makeCache({ store });
      await cache.get('item:1', () => 'one');

      expect(spans.one('cache.write').attributes).to.include({
        'cache.result': 'refused',
        'cache.reason': 'lease-unavailable',
      });
      expect(spans.one('cache.lookup').attributes).to.include({ 'cache.operation': 'lease' });
    });

    it('marks a write that failed: the store, or the encoding', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('read-only replica'), { only: ['set'] });
      await makeCache({ store, circuitBreakerThreshold: 0 }).set('item:1', 'one');
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await makeCache().set('item:2', circular);

      const [stored, encoded] = spans.named('cache.write');
      expect(stored?.attributes).to.include({
        'cache.result': 'failed',
        'cache.operation': 'set',
        'error.type': 'E_STORE_FAILED',
      });
      expect(stored?.status.code).to.equal(SpanStatusCode.ERROR);
      expect(encoded?.attributes).to.include({
        'cache.result': 'failed',
        'cache.operation': 'encode',
        'error.type': 'TypeError',
      });
      expect(encoded?.status.code).to.equal(SpanStatusCode.ERROR);
    });

    it('marks the renewal of a stale entry that its loader found still current', async () => {
      clock = fakeDate();
      const cache = makeCache({ staleTtl: 60, staleWhileRevalidate: false });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      await cache.get('item:1', (_key, context) => context.revalidated?.() ?? 'two');

      const renewal = spans.named('cache.write')[1];
      expect(renewal?.attributes).to.include({ 'cache.renewal': true, 'cache.result': 'stored' });
      expect(spans.one('cache.load').attributes['cache.cause']).to.equal('stale-fallback');
    });

    it('says a renewal was skipped when the stale entry was replaced meanwhile', async () => {
      clock = fakeDate();
      const cache = makeCache({ staleTtl: 60, staleWhileRevalidate: false });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      await cache.get('item:1', async (key, context) => {
        // Under the same lease, which no invalidation voided: only the entry's times tell the change.
        await cache.set(key, 'replaced', { lease: context.lease });
        return context.revalidated?.() ?? 'two';
      });

      const renewal = spans.named('cache.write').find((span) => span.attributes['cache.renewal'] === true);
      expect(renewal?.attributes).to.include({ 'cache.result': 'skipped', 'cache.reason': 'changed' });
    });

    it('says a renewal was skipped when the renewed entry would not be fresh', async () => {
      clock = fakeDate();
      const cache = makeCache({ staleTtl: 60, staleWhileRevalidate: false });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      await cache.get('item:1', (_key, context) => context.revalidated?.() ?? 'two', { ttl: 0 });

      const renewal = spans.named('cache.write')[1];
      expect(renewal?.attributes).to.include({
        'cache.renewal': true,
        'cache.result': 'skipped',
        'cache.reason': 'not-fresh',
      });
    });

    it('marks a renewal on a store that cannot renew, written whole', async () => {
      clock = fakeDate();
      const cache = makeCache({ store: new ChaosStore(), staleTtl: 60, staleWhileRevalidate: false });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      await cache.get('item:1', (_key, context) => context.revalidated?.() ?? 'two');

      const renewal = spans.named('cache.write')[1];
      expect(renewal?.attributes).to.include({ 'cache.renewal': true, 'cache.result': 'stored' });
    });
  });

  describe('stale entries', () => {
    it('serves a stale entry as a stale lookup, its failed load an error of its own', async () => {
      clock = fakeDate();
      const cache = makeCache({ staleTtl: 60, staleWhileRevalidate: false });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      expect(await cache.get('item:1', () => Promise.reject(new Error('down')))).to.equal('one');

      const lookup = spans.one('cache.lookup');
      expect(lookup.attributes['cache.result']).to.equal('stale');
      expect(lookup.status.code).to.equal(SpanStatusCode.UNSET);
      expect(spans.one('cache.load').status.code).to.equal(SpanStatusCode.ERROR);
    });

    it('refreshes in a trace of its own, linked to the lookup that found the entry stale', async () => {
      clock = fakeDate();
      const cache = makeCache({ staleTtl: 60 });
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      const { caller } = await underCallerSpan(() => cache.get('item:1', () => 'two'));
      await cache.close();

      const lookup = spans.one('cache.lookup');
      const refresh = spans.one('cache.refresh');
      expect(lookup.attributes['cache.result']).to.equal('stale');
      expect(parentIdOf(lookup)).to.equal(idOf(caller));
      expect(parentIdOf(refresh)).to.equal(undefined);
      expect(refresh.spanContext().traceId).to.not.equal(caller.spanContext().traceId);
      expect(refresh.links.map((link) => link.context.spanId)).to.deep.equal([idOf(lookup)]);
      expect(refresh.attributes).to.include({
        'cache.result': 'ok',
        'cache.key_hash': hashCacheKey('test:item:1'),
      });
      const load = spans.one('cache.load');
      expect(parentIdOf(load)).to.equal(idOf(refresh));
      expect(load.attributes['cache.cause']).to.equal('background-refresh');
      expect(parentIdOf(spans.named('cache.write')[1] as ReadableSpan)).to.equal(idOf(refresh));
    });

    it('says a refresh was skipped when another instance refreshes, and marks one that failed', async () => {
      clock = fakeDate();
      const store = new MemoryStore();
      const cache = makeCache({ store, staleTtl: 60 });
      await cache.set('locked', 'one', { ttl: 1 });
      await cache.set('failing', 'one', { ttl: 1 });
      await store.acquireLock(new KeySpace('test:').lockKey('locked'), 'another instance', 60_000);
      clock.tick(2000);
      await cache.get('locked', () => 'two');
      await cache.get('failing', () => Promise.reject(new Error('down')));
      await cache.close();

      const [skipped, failed] = spans.named('cache.refresh');
      expect(skipped?.attributes['cache.result']).to.equal('skipped');
      expect(failed?.attributes).to.include({ 'cache.result': 'error', 'error.type': 'Error' });
      expect(failed?.status.code).to.equal(SpanStatusCode.ERROR);
    });
  });

  describe('invalidations', () => {
    it('makes each invalidation a cache.invalidate span with its kind and count', async () => {
      const cache = makeCache();
      await cache.set('item:1', 'one', { tags: ['items'] });
      await cache.set('item:2', 'two', { tags: ['items'] });
      await cache.set('page:1', 'p');
      const { caller } = await underCallerSpan(async () => {
        await cache.invalidate('item:1');
        await cache.invalidate('item:1');
        await cache.invalidateTags(['items']);
        await cache.invalidatePattern('page:*');
      });

      const recorded = spans.named('cache.invalidate').map((span) => span.attributes);
      expect(recorded).to.deep.equal([
        {
          'cache.name': 'test',
          'cache.key_hash': hashCacheKey('test:item:1'),
          'cache.invalidation.kind': 'key',
          'cache.invalidation.count': 1,
        },
        {
          'cache.name': 'test',
          'cache.key_hash': hashCacheKey('test:item:1'),
          'cache.invalidation.kind': 'key',
          'cache.invalidation.count': 0,
        },
        { 'cache.name': 'test', 'cache.invalidation.kind': 'tag', 'cache.invalidation.count': 1 },
        { 'cache.name': 'test', 'cache.invalidation.kind': 'pattern', 'cache.invalidation.count': 1 },
      ]);
      for (const span of spans.named('cache.invalidate')) expect(parentIdOf(span)).to.equal(idOf(caller));
    });

    it('keeps a retried invalidation that succeeded unmarked, its failed attempt an event', async () => {
      const store = new ChaosStore().failNext(1, new Error('busy'), { only: ['delete'] });
      const cache = makeCache({ store, invalidationBackoffMs: 0 });
      expect(await cache.invalidate('item:1')).to.equal(false);

      const span = spans.one('cache.invalidate');
      expect(span.status.code).to.equal(SpanStatusCode.UNSET);
      expect(span.attributes['error.type']).to.equal(undefined);
      expect(span.events.map((event) => [event.name, event.attributes])).to.deep.equal([
        ['cache.attempt_failed', { 'cache.operation': 'delete', 'error.type': 'E_STORE_FAILED' }],
      ]);
    });

    it('marks an invalidation that failed every attempt E_INVALIDATION_FAILED', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('down'), { only: ['deleteTagged'] });
      const cache = makeCache({ store, invalidationAttempts: 2, invalidationBackoffMs: 0 });
      const error = await rejectionOf(cache.invalidateTags(['items']));
      expect(error).to.be.instanceOf(CacheError).with.property('code', 'E_INVALIDATION_FAILED');

      const span = spans.one('cache.invalidate');
      expect(span.status.code).to.equal(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).to.equal('E_INVALIDATION_FAILED');
      expect(span.events.filter((event) => event.name === 'cache.attempt_failed')).to.have.length(2);
    });
  });

  describe('without @opentelemetry/api', () => {
    it('works and records nothing', async () => {
      const load = sinon.spy(notInstalled);
      const cache = assembleCache({ ...cacheOptions, store: new MemoryStore() }, load);
      await underCallerSpan(async () => {
        expect(await cache.get('item:1', () => 'one')).to.equal('one');
        expect(await cache.get('item:1', () => 'two')).to.equal('one');
        expect(await cache.invalidate('item:1')).to.equal(true);
      });

      expect(load.calledOnceWithExactly('@opentelemetry/api')).to.equal(true);
      expect(spans.all().map((span) => span.name)).to.deep.equal(['caller']);
      expect(cache.stats()).to.include({ hits: 1, misses: 1 });
    });

    it('does not even look for it with tracing: false', async () => {
      const load = sinon.spy(notInstalled);
      const cache = assembleCache({ ...cacheOptions, store: new MemoryStore(), tracing: false }, load);
      expect(await cache.get('item:1', () => 'one')).to.equal('one');

      expect(load.called).to.equal(false);
      expect(spans.all()).to.deep.equal([]);
    });

    it('still refreshes stale entries in the background, untraced', async () => {
      clock = fakeDate();
      const store = new MemoryStore();
      const cache = assembleCache({ ...cacheOptions, store, staleTtl: 60 }, notInstalled);
      await cache.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      expect(await cache.get('item:1', () => 'two')).to.equal('one');
      await cache.close();

      expect(spans.all()).to.deep.equal([]);
      expect(await makeCache({ store }).get('item:1', () => 'three')).to.equal('two');
    });

    it('refuses an installed api that fails to load or is no 1.x, pointing at tracing: false', () => {
      const broken = () => {
        throw new SyntaxError('Unexpected token');
      };
      expect(() => assembleCache(cacheOptions, broken)).to.throw(
        TypeError,
        /@opentelemetry\/api is installed but could not be loaded \(Unexpected token\).*`tracing: false`/,
      );
      expect(() => assembleCache(cacheOptions, () => ({ trace: {} }))).to.throw(
        TypeError,
        /not a 1\.x version.*`tracing: false`/,
      );
    });

    it('refuses a tracing option that is not a boolean', () => {
      expect(() =>
        assembleCache({ ...cacheOptions, tracing: 'yes' as unknown as boolean }, notInstalled),
      ).to.throw(TypeError, '`tracing` must be a boolean, got the string "yes"');
    });
  });
});

describe('OpenTelemetry spans of a cache, with an SDK that samples nothing', () => {
  const spans = useRecordedSpans(new AlwaysOffSampler());
  let cache: Cache;

  beforeEach(() => {
    cache = makeCache();
  });

  it("leaves the caller's span active for the loader, and records nothing", async () => {
    let activeInLoader: Span | undefined;
    const { caller } = await underCallerSpan(() =>
      cache.get('item:1', () => {
        activeInLoader = trace.getActiveSpan();
        return 'one';
      }),
    );

    expect(activeInLoader).to.equal(caller);
    expect(caller.isRecording()).to.equal(false);
    expect(spans.all()).to.deep.equal([]);
  });

  it('refreshes a stale entry that a call outside any span found, recording nothing', async () => {
    const clock = fakeDate();
    const store = new MemoryStore();
    try {
      const stale = makeCache({ store, staleTtl: 60 });
      await stale.set('item:1', 'one', { ttl: 1 });
      clock.tick(2000);
      expect(await stale.get('item:1', () => 'two')).to.equal('one');
      await stale.close();
    } finally {
      clock.restore();
    }
    expect(await makeCache({ store }).get('item:1', () => 'three')).to.equal('two');
    expect(spans.all()).to.deep.equal([]);
  });
});

describe('OpenTelemetry spans of a cache, with the api installed and no SDK registered', () => {
  afterEach(() => sinon.restore());

  it('starts no span at all, and records spans once an SDK registers later', async () => {
    const startSpan = sinon.spy(ProxyTracer.prototype, 'startSpan');
    const cache = makeCache();
    expect(await cache.get('item:1', () => 'one')).to.equal('one');
    expect(await cache.get('item:1', () => 'two')).to.equal('one');
    expect(startSpan.called).to.equal(false);

    // An app that starts its SDK after creating the cache: the same cache records from then on.
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      expect(await cache.get('item:1', () => 'three')).to.equal('one');
      expect(exporter.getFinishedSpans().map((span) => span.name)).to.deep.equal(['cache.lookup']);
    } finally {
      trace.disable();
      await provider.shutdown();
    }
    // And once it is gone again, no span either.
    const started = startSpan.callCount;
    expect(await cache.get('item:1', () => 'four')).to.equal('one');
    expect(startSpan.callCount).to.equal(started);
  });
});

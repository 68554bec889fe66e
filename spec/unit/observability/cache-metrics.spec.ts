import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Counter, register as globalRegistry, Registry } from 'prom-client';
import sinon from 'sinon';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import type { CacheOptions } from '../../../src/options.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { silentLogger } from '../../support/silent-logger.js';
import { familyNames, sampleValue } from './read-metric.js';

const FAMILIES = [
  'cache_aside_build_info',
  'cache_aside_circuit_open',
  'cache_aside_circuit_opens_total',
  'cache_aside_coalesced_total',
  'cache_aside_errors_total',
  'cache_aside_invalidation_failures_total',
  'cache_aside_invalidation_queue_dropped_total',
  'cache_aside_invalidation_queue_size',
  'cache_aside_invalidations_total',
  'cache_aside_load_duration_seconds',
  'cache_aside_loads_total',
  'cache_aside_lookups_total',
  'cache_aside_memory_tier_bytes',
  'cache_aside_memory_tier_entries',
  'cache_aside_purged_entries_total',
  'cache_aside_purges_total',
  'cache_aside_redis_duration_seconds',
  'cache_aside_refused_writes_total',
  'cache_aside_request_duration_seconds',
  'cache_aside_revalidations_total',
  'cache_aside_shadow_total',
];

describe('cache metrics (prom-client)', () => {
  let registry: Registry;
  let globalFamiliesBefore: string[];

  function makeCache(options: Partial<CacheOptions> = {}): Cache {
    return createCache({
      store: new MemoryStore(),
      prefix: 'shop:',
      registry,
      logger: silentLogger,
      lockTtlMs: 0,
      ...options,
    });
  }

  beforeEach(() => {
    registry = new Registry();
    globalFamiliesBefore = familyNames(globalRegistry);
  });

  afterEach(() => {
    sinon.restore();
    expect(familyNames(globalRegistry)).to.deep.equal(globalFamiliesBefore);
  });

  describe('registration', () => {
    it('registers every family in the given registry, and nothing in the global one', () => {
      makeCache();
      expect(familyNames(registry)).to.deep.equal(FAMILIES);
    });

    it('lets two caches share a registry, telling their series apart by the cache label', async () => {
      const products = makeCache({ prefix: 'products:' });
      const users = makeCache({ prefix: 'users:' });
      await products.get('p1', () => 'shoe');
      await users.get('u1', () => 'ada');
      await users.get('u1', () => 'ada');

      expect(familyNames(registry)).to.deep.equal(FAMILIES);
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'products', result: 'miss' }),
      ).to.equal(1);
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'users', result: 'miss' }),
      ).to.equal(1);
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'users', result: 'hit' }),
      ).to.equal(1);
    });

    it('names the families with metricsPrefix', () => {
      makeCache({ metricsPrefix: 'shop_cache_' });
      expect(familyNames(registry)).to.deep.equal(
        FAMILIES.map((name) => name.replace('cache_aside_', 'shop_cache_')),
      );
    });

    it('refuses a registry that already holds a same-named metric from other code, saying what to do', () => {
      new Counter({ name: 'cache_aside_lookups_total', help: 'someone else', registers: [registry] });
      expect(() => makeCache())
        .to.throw(TypeError, /cache_aside_lookups_total.*already registered.*`registry` or `metricsPrefix`/)
        .with.property('code', 'E_INVALID_OPTION');
    });

    it('refuses a frozen registry with an error that says why, instead of a TypeError from deep inside', () => {
      registry = Object.freeze(new Registry());
      expect(() => makeCache())
        .to.throw(TypeError, /`registry` is frozen or sealed/)
        .with.property('code', 'E_INVALID_OPTION');
    });

    it('registers the families again after registry.clear() instead of losing them', async () => {
      makeCache();
      registry.clear();
      const cache = makeCache();
      await cache.get('k', () => 1);
      expect(familyNames(registry)).to.deep.equal(FAMILIES);
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'shop', result: 'miss' }),
      ).to.equal(1);
    });

    it('refuses a foreign metric that replaced one of ours after registry.clear()', () => {
      makeCache();
      registry.clear();
      new Counter({ name: 'cache_aside_errors_total', help: 'someone else', registers: [registry] });
      expect(() => makeCache()).to.throw(TypeError, /cache_aside_errors_total.*already registered/);
    });

    it('makes the histograms with metricsBuckets, keeping the defaults of the families left out', async () => {
      const cache = makeCache({ metricsBuckets: { load: [0.05, 0.2, 1] } });
      cache.events.emit('load', { key: 'k', durationSeconds: 0.1, failed: false });
      const loadBucket = (le: number | string) =>
        sampleValue(registry, 'cache_aside_load_duration_seconds_bucket', { cache: 'shop', le });
      expect([
        await loadBucket(0.05),
        await loadBucket(0.2),
        await loadBucket(1),
        await loadBucket('+Inf'),
      ]).to.deep.equal([0, 1, 1, 1]);
      expect(await loadBucket(0.1)).to.equal(undefined);
      expect(
        await sampleValue(registry, 'cache_aside_redis_duration_seconds_bucket', {
          cache: 'shop',
          operation: 'get',
          le: 0.00015,
        }),
        'a default Redis bucket',
      ).to.equal(0);
    });

    it('shares the histograms with a second cache given the same buckets, and refuses one given others', () => {
      const buckets = { request: [0.01, 0.1, 1] };
      makeCache({ prefix: 'a:', metricsBuckets: buckets });
      expect(() => makeCache({ prefix: 'b:', metricsBuckets: { request: [0.01, 0.1, 1] } })).to.not.throw();
      expect(() => makeCache({ prefix: 'c:' }))
        .to.throw(TypeError, /`metricsBuckets\.request` differs .* \(0\.01, 0\.1, 1\).*same `metricsBuckets`/)
        .with.property('code', 'E_INVALID_OPTION');
      // Under another prefix, they are other histograms.
      expect(() => makeCache({ prefix: 'd:', metricsPrefix: 'other_' })).to.not.throw();
    });

    it('registers nothing with registry: false', () => {
      makeCache({ registry: false });
      expect(familyNames(registry)).to.deep.equal([]);
    });

    it('starts the series with known label values at zero, so rates exist from the first scrape', async () => {
      makeCache();
      const cache = { cache: 'shop' };
      for (const result of ['hit', 'miss', 'stale']) {
        expect(await sampleValue(registry, 'cache_aside_lookups_total', { ...cache, result })).to.equal(0);
      }
      for (const kind of ['key', 'tag', 'pattern']) {
        expect(await sampleValue(registry, 'cache_aside_invalidations_total', { ...cache, kind })).to.equal(
          0,
        );
      }
      for (const operation of ['get', 'set', 'delete_tagged', 'lock_acquire', 'decode', 'connection']) {
        expect(
          await sampleValue(registry, 'cache_aside_errors_total', { ...cache, operation, reason: 'error' }),
        ).to.equal(0);
      }
      for (const reason of ['timeout', 'circuit_open']) {
        expect(
          await sampleValue(registry, 'cache_aside_errors_total', { ...cache, operation: 'get', reason }),
        ).to.equal(0);
      }
      for (const kind of ['key', 'tag', 'pattern']) {
        expect(
          await sampleValue(registry, 'cache_aside_invalidation_failures_total', { ...cache, kind }),
        ).to.equal(0);
      }
      for (const result of ['ok', 'error']) {
        expect(await sampleValue(registry, 'cache_aside_loads_total', { ...cache, result })).to.equal(0);
      }
      expect(await sampleValue(registry, 'cache_aside_coalesced_total', cache)).to.equal(0);
      expect(await sampleValue(registry, 'cache_aside_circuit_open', cache)).to.equal(0);
      expect(await sampleValue(registry, 'cache_aside_circuit_opens_total', cache)).to.equal(0);
      expect(await sampleValue(registry, 'cache_aside_load_duration_seconds_count', cache)).to.equal(0);
      expect(
        await sampleValue(registry, 'cache_aside_redis_duration_seconds_count', {
          ...cache,
          operation: 'get',
        }),
      ).to.equal(0);
    });
  });

  describe('families', () => {
    it('cache_aside_lookups_total counts hits, misses and stale serves', async () => {
      const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
      const cache = makeCache({ ttl: 1, staleTtl: 60 });
      await cache.get('k', () => 'v');
      await cache.get('k', () => 'v');
      clock.tick(1_500);
      await cache.get('k', () => 'v');
      await cache.close();

      const count = (result: string) =>
        sampleValue(registry, 'cache_aside_lookups_total', { cache: 'shop', result });
      expect([await count('miss'), await count('hit'), await count('stale')]).to.deep.equal([1, 1, 1]);
    });

    it('cache_aside_load_duration_seconds observes one loader run per miss, none per hit', async () => {
      const cache = makeCache();
      await cache.get('k', () => 'v');
      await cache.get('k', () => 'v');
      expect(
        await sampleValue(registry, 'cache_aside_load_duration_seconds_count', { cache: 'shop' }),
      ).to.equal(1);
    });

    it('cache_aside_load_duration_seconds buckets span millisecond to ten-second loads in steps of at most 17 %', async () => {
      const cache = makeCache();
      for (const durationSeconds of [0.0003, 0.003, 0.104, 0.118]) {
        cache.events.emit('load', { key: 'k', durationSeconds, failed: false });
      }
      cache.events.emit('load', {
        key: 'k',
        durationSeconds: 7,
        failed: true,
        error: new Error('slow and broken'),
      });
      const bucket = (le: number) =>
        sampleValue(registry, 'cache_aside_load_duration_seconds_bucket', { cache: 'shop', le });
      expect(await bucket(0.001)).to.equal(1);
      expect(await bucket(0.0026)).to.equal(1);
      expect(await bucket(0.003)).to.equal(2);
      // 100–120 ms, the loads of a typical data source, fall in buckets 15 % wide.
      expect(await bucket(0.1)).to.equal(2);
      expect(await bucket(0.115)).to.equal(3);
      expect(await bucket(0.13)).to.equal(4);
      expect(await bucket(5)).to.equal(4);
      expect(await bucket(10)).to.equal(5);
      expect(
        await sampleValue(registry, 'cache_aside_load_duration_seconds_sum', { cache: 'shop' }),
      ).to.be.closeTo(7.2253, 1e-9);
    });

    it('cache_aside_loads_total counts loads by result: ok, or error when the loader throws', async () => {
      const cache = makeCache();
      await cache.get('a', () => 'v');
      await cache.get('b', () => Promise.reject(new Error('database down'))).catch(() => undefined);
      await cache
        .get('c', () => {
          throw new Error('database down');
        })
        .catch(() => undefined);
      const loads = (result: string) =>
        sampleValue(registry, 'cache_aside_loads_total', { cache: 'shop', result });
      expect([await loads('ok'), await loads('error')]).to.deep.equal([1, 2]);
      expect(
        await sampleValue(registry, 'cache_aside_load_duration_seconds_count', { cache: 'shop' }),
      ).to.equal(3);
    });

    it('cache_aside_redis_duration_seconds times every store command by operation', async () => {
      const cache = makeCache();
      await cache.get('k', () => 'v', { tags: ['t'] });
      await cache.invalidateTags(['t']);
      const count = (operation: string) =>
        sampleValue(registry, 'cache_aside_redis_duration_seconds_count', { cache: 'shop', operation });
      expect(await count('get')).to.equal(1);
      expect(await count('set')).to.equal(1);
      expect(await count('delete_tagged')).to.equal(1);
    });

    it('cache_aside_errors_total counts failed operations by reason, and cache_aside_circuit_open follows the breaker', async () => {
      const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
      const store = new ChaosStore().alwaysThrow();
      const cache = makeCache({ store, circuitBreakerThreshold: 2, circuitBreakerHalfOpenAfterMs: 1_000 });
      const errors = (operation: string, reason = 'error') =>
        sampleValue(registry, 'cache_aside_errors_total', { cache: 'shop', operation, reason });
      const circuitOpen = () => sampleValue(registry, 'cache_aside_circuit_open', { cache: 'shop' });

      // A failed read (nothing more is asked of an unreachable Redis), then a failed write: two in a row.
      expect(await cache.get('k', () => 'v')).to.equal('v');
      await cache.set('k', 'v');
      expect([await errors('get'), await errors('set'), await circuitOpen()]).to.deep.equal([1, 1, 1]);

      // Skipped by the open circuit: counted apart from the calls that reached Redis.
      await cache.get('k', () => 'v');
      await cache.get('k', () => 'v');
      expect([await errors('get'), await errors('get', 'circuit_open')]).to.deep.equal([1, 2]);

      store.heal();
      clock.tick(1_000);
      await cache.get('k', () => 'v');
      expect(await circuitOpen()).to.equal(0);
    });

    it('cache_aside_circuit_open counts the open circuits of a Cluster, one per master', async () => {
      const cache = makeCache();
      const circuitOpen = () => sampleValue(registry, 'cache_aside_circuit_open', { cache: 'shop' });
      const seen: (number | undefined)[] = [];
      for (const change of [
        { open: true, node: '10.0.0.1:6379' },
        { open: true, node: '10.0.0.2:6379' },
        // A probe that failed opens the same circuit again: still two.
        { open: true, node: '10.0.0.1:6379' },
        { open: false, node: '10.0.0.1:6379' },
        { open: false, node: '10.0.0.2:6379' },
      ]) {
        cache.events.emit('circuit', change);
        seen.push(await circuitOpen());
      }
      expect(seen).to.deep.equal([1, 2, 2, 1, 0]);
    });

    it('cache_aside_errors_total counts Redis calls that took longer than redisTimeoutMs as timeouts', async () => {
      const cache = makeCache({
        store: new ChaosStore().delay(1_000, { only: ['get'] }),
        redisTimeoutMs: 20,
      });
      expect(await cache.get('k', () => 'v')).to.equal('v');
      const errors = (reason: string) =>
        sampleValue(registry, 'cache_aside_errors_total', { cache: 'shop', operation: 'get', reason });
      expect([await errors('timeout'), await errors('error')]).to.deep.equal([1, 0]);
      await cache.close();
    });

    it('cache_aside_circuit_opens_total counts each opening once, however many probes fail before it closes', async () => {
      const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
      const store = new ChaosStore().alwaysThrow();
      const cache = makeCache({ store, circuitBreakerThreshold: 2, circuitBreakerHalfOpenAfterMs: 1_000 });
      const opens = () => sampleValue(registry, 'cache_aside_circuit_opens_total', { cache: 'shop' });
      const outage = async () => {
        for (let probe = 0; probe < 4; probe++) {
          await cache.get('k', () => 'v');
          await cache.get('k', () => 'v');
          clock.tick(1_000);
        }
      };

      await outage();
      expect(await opens()).to.equal(1);
      store.heal();
      await cache.get('k', () => 'v');
      expect(await sampleValue(registry, 'cache_aside_circuit_open', { cache: 'shop' })).to.equal(0);
      // Flapping: the next outage is another opening.
      store.alwaysThrow();
      await outage();
      expect(await opens()).to.equal(2);
    });

    it('cache_aside_errors_total counts undecodable entries as decode errors', async () => {
      const store = new MemoryStore();
      await store.set('shop:k', Buffer.from('not an entry'), { ttlMs: 60_000 });
      const cache = makeCache({ store });
      expect(await cache.get('k', () => 'v')).to.equal('v');
      expect(
        await sampleValue(registry, 'cache_aside_errors_total', { cache: 'shop', operation: 'decode' }),
      ).to.equal(1);
    });

    it('cache_aside_coalesced_total counts lookups that shared another lookup’s load', async () => {
      const cache = makeCache();
      let finish: (value: string) => void = () => {};
      const slowLoad = new Promise<string>((resolve) => {
        finish = resolve;
      });
      const lookups = [
        cache.get('k', () => slowLoad),
        cache.get('k', () => slowLoad),
        cache.get('k', () => slowLoad),
      ];
      await new Promise((resolve) => setImmediate(resolve));
      finish('v');
      expect(await Promise.all(lookups)).to.deep.equal(['v', 'v', 'v']);
      expect(await sampleValue(registry, 'cache_aside_coalesced_total', { cache: 'shop' })).to.equal(2);
      expect(
        await sampleValue(registry, 'cache_aside_load_duration_seconds_count', { cache: 'shop' }),
      ).to.equal(1);
    });

    it('cache_aside_invalidations_total counts invalidation calls by kind', async () => {
      const cache = makeCache();
      await cache.invalidate('a');
      await cache.invalidate('b');
      await cache.invalidateTags(['t']);
      await cache.invalidatePattern('items:*');
      const count = (kind: string) =>
        sampleValue(registry, 'cache_aside_invalidations_total', { cache: 'shop', kind });
      expect([await count('key'), await count('tag'), await count('pattern')]).to.deep.equal([2, 1, 1]);
    });

    it('cache_aside_invalidation_queue_size follows the queue, and cache_aside_invalidation_queue_dropped_total counts what it gives up, by reason', async () => {
      const cache = makeCache();
      const size = () => sampleValue(registry, 'cache_aside_invalidation_queue_size', { cache: 'shop' });
      const dropped = (reason: string) =>
        sampleValue(registry, 'cache_aside_invalidation_queue_dropped_total', { cache: 'shop', reason });
      expect([await size(), await dropped('overflow'), await dropped('age')]).to.deep.equal([0, 0, 0]);
      cache.events.emit('invalidation-queued', { kind: 'tag', queueSize: 1 });
      cache.events.emit('invalidation-queued', { kind: 'key', queueSize: 2 });
      cache.events.emit('invalidation-dropped', { kind: 'key', reason: 'overflow', queueSize: 2 });
      expect([await size(), await dropped('overflow'), await dropped('age')]).to.deep.equal([2, 1, 0]);
      cache.events.emit('invalidation-dropped', { kind: 'tag', reason: 'age', queueSize: 1 });
      cache.events.emit('invalidation-replayed', { kind: 'key', queueSize: 0 });
      expect([await size(), await dropped('overflow'), await dropped('age')]).to.deep.equal([0, 1, 1]);
    });

    it('cache_aside_invalidation_failures_total counts failed invalidation calls by kind, once per call whatever its retries', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('connect ECONNREFUSED'), {
        only: ['delete', 'deleteTagged', 'deleteMatching'],
      });
      const cache = makeCache({ store, invalidationAttempts: 3, invalidationBackoffMs: 0 });
      await cache.invalidate('a').catch(() => undefined);
      await cache.invalidate('b').catch(() => undefined);
      await cache.invalidateTags(['t']).catch(() => undefined);
      await cache.invalidatePattern('items:*').catch(() => undefined);
      const failures = (kind: string) =>
        sampleValue(registry, 'cache_aside_invalidation_failures_total', { cache: 'shop', kind });
      const successes = (kind: string) =>
        sampleValue(registry, 'cache_aside_invalidations_total', { cache: 'shop', kind });
      expect([await failures('key'), await failures('tag'), await failures('pattern')]).to.deep.equal([
        2, 1, 1,
      ]);
      expect([await successes('key'), await successes('tag'), await successes('pattern')]).to.deep.equal([
        0, 0, 0,
      ]);
    });

    it('cache_aside_purges_total and cache_aside_purged_entries_total count purges by kind, from zero', async () => {
      const cache = makeCache();
      const purge = { target: '/api/*', actor: 'ops' };
      const count = (name: string, kind: string) => sampleValue(registry, name, { cache: 'shop', kind });
      expect(await count('cache_aside_purges_total', 'entry')).to.equal(0);
      cache.events.emit('purge', { ...purge, kind: 'pattern', purged: 7 });
      cache.events.emit('purge', { ...purge, kind: 'pattern', purged: 0 });
      cache.events.emit('purge', { ...purge, kind: 'tag', purged: 2 });
      cache.events.emit('purge-failed', { ...purge, kind: 'entry', error: new Error('down') });
      const counts = async (name: string) =>
        Promise.all(['entry', 'tag', 'pattern'].map((kind) => count(name, kind)));
      expect(await counts('cache_aside_purges_total')).to.deep.equal([0, 1, 2]);
      expect(await counts('cache_aside_purged_entries_total')).to.deep.equal([0, 2, 7]);
    });

    it('cache_aside_request_duration_seconds is the one family of HTTP requests, with the cache and the status class', async () => {
      const cache = makeCache();
      const request = { route: '/api/items/:id', method: 'GET', durationSeconds: 0.0004 };
      cache.events.emit('request', { ...request, result: 'miss', status: 200 });
      cache.events.emit('request', { ...request, result: 'miss', status: 503 });
      cache.events.emit('request', { ...request, result: 'hit', status: 200 });
      cache.events.emit('request', { ...request, result: 'hit', status: 304 });
      cache.events.emit('request', { ...request, result: 'hit', status: 200 });
      cache.events.emit('request', { ...request, result: 'bypass', status: 404, reason: 'authorization' });

      const requests = (result: string, status_class: string) =>
        sampleValue(registry, 'cache_aside_request_duration_seconds_count', {
          cache: 'shop',
          route: '/api/items/:id',
          method: 'GET',
          result,
          status_class,
        });
      expect([
        await requests('hit', '2xx'),
        await requests('hit', '3xx'),
        await requests('miss', '2xx'),
        await requests('miss', '5xx'),
        await requests('bypass', '4xx'),
      ]).to.deep.equal([2, 1, 1, 1, 1]);
      expect(
        await sampleValue(registry, 'cache_aside_request_duration_seconds_bucket', {
          route: '/api/items/:id',
          result: 'hit',
          status_class: '2xx',
          le: 0.0005,
        }),
      ).to.equal(2);
      expect(registry.getSingleMetric('cache_aside_requests_total')).to.equal(undefined);
    });

    it('keeps status_class to 1xx…5xx, counting a status outside 100–599 (not HTTP) as 5xx', async () => {
      const cache = makeCache();
      const request = { route: '/r', method: 'GET', result: 'miss' as const, durationSeconds: 0.01 };
      for (const status of [101, 299, 999, 0]) cache.events.emit('request', { ...request, status });
      const requests = (status_class: string) =>
        sampleValue(registry, 'cache_aside_request_duration_seconds_count', { route: '/r', status_class });
      expect([await requests('1xx'), await requests('2xx'), await requests('5xx')]).to.deep.equal([1, 1, 2]);
    });

    it('cache_aside_build_info says which version of the package exports the metrics', async () => {
      makeCache();
      const { version } = JSON.parse(
        await readFile(new URL('../../../package.json', import.meta.url), 'utf8'),
      ) as { version: string };
      expect(await sampleValue(registry, 'cache_aside_build_info', { version })).to.equal(1);
    });

    it('cache_aside_memory_tier_entries and _bytes read the in-process tier at every scrape, 0 without one', async () => {
      const tiered = makeCache({ prefix: 'tiered:', memoryTier: { maxEntries: 10 } });
      makeCache({ prefix: 'plain:' });
      const entries = (cache: string) => sampleValue(registry, 'cache_aside_memory_tier_entries', { cache });
      const bytes = (cache: string) => sampleValue(registry, 'cache_aside_memory_tier_bytes', { cache });
      expect([await entries('tiered'), await bytes('tiered')]).to.deep.equal([0, 0]);

      await tiered.get('a', () => 'alpha');
      await tiered.get('b', () => 'beta');
      expect(await entries('tiered'))
        .to.equal(tiered.stats().memoryEntries)
        .and.to.equal(2);
      expect(await bytes('tiered'))
        .to.equal(tiered.stats().memoryBytes)
        .and.to.be.greaterThan(0);
      expect([await entries('plain'), await bytes('plain')]).to.deep.equal([0, 0]);

      // A closed cache leaves no series behind that would go on claiming what its tier held.
      await tiered.close();
      expect([await entries('tiered'), await bytes('tiered')]).to.deep.equal([undefined, undefined]);
    });

    it('cache_aside_shadow_total counts shadow lookups by route, would-be answer and match', async () => {
      const cache = makeCache();
      await cache.setMode('shadow');
      await cache.get('k', () => 'v1');
      await cache.get('k', () => 'v1');
      await cache.get('k', () => 'v2');
      cache.events.emit('shadow', { key: 'x', route: '/api/items/:id', would: 'stale', match: 'different' });
      const shadow = (route: string, would: string, match: string) =>
        sampleValue(registry, 'cache_aside_shadow_total', { cache: 'shop', route, would, match });
      expect([
        await shadow('', 'miss', 'none'),
        await shadow('', 'hit', 'same'),
        await shadow('', 'hit', 'different'),
        await shadow('/api/items/:id', 'stale', 'different'),
      ]).to.deep.equal([1, 1, 1, 1]);
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'shop', result: 'hit' }),
        'a would-be hit answered nothing: it is no lookup hit',
      ).to.equal(0);
    });

    it('stops observing a cache once it is closed', async () => {
      const cache = makeCache();
      await cache.close();
      cache.events.emit('lookup', { key: 'k', result: 'hit' });
      expect(
        await sampleValue(registry, 'cache_aside_lookups_total', { cache: 'shop', result: 'hit' }),
      ).to.equal(0);
    });
  });
});

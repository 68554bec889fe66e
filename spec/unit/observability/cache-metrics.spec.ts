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
  'cache_aside_circuit_open',
  'cache_aside_coalesced_total',
  'cache_aside_errors_total',
  'cache_aside_invalidations_total',
  'cache_aside_load_duration_seconds',
  'cache_aside_lookups_total',
  'cache_aside_purged_entries_total',
  'cache_aside_purges_total',
  'cache_aside_redis_duration_seconds',
  'cache_aside_refused_writes_total',
  'cache_aside_request_duration_seconds',
  'cache_aside_requests_total',
  'cache_aside_revalidations_total',
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
        expect(await sampleValue(registry, 'cache_aside_errors_total', { ...cache, operation })).to.equal(0);
      }
      expect(await sampleValue(registry, 'cache_aside_coalesced_total', cache)).to.equal(0);
      expect(await sampleValue(registry, 'cache_aside_circuit_open', cache)).to.equal(0);
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

    it('cache_aside_load_duration_seconds buckets span sub-millisecond to multi-second loads', async () => {
      const cache = makeCache();
      cache.events.emit('load', { key: 'k', durationSeconds: 0.0003, failed: false });
      cache.events.emit('load', { key: 'k', durationSeconds: 0.003, failed: false });
      cache.events.emit('load', {
        key: 'k',
        durationSeconds: 7,
        failed: true,
        error: new Error('slow and broken'),
      });
      const bucket = (le: number) =>
        sampleValue(registry, 'cache_aside_load_duration_seconds_bucket', { cache: 'shop', le });
      expect(await bucket(0.0005)).to.equal(1);
      expect(await bucket(0.0025)).to.equal(1);
      expect(await bucket(0.005)).to.equal(2);
      expect(await bucket(5)).to.equal(2);
      expect(await bucket(10)).to.equal(3);
      expect(
        await sampleValue(registry, 'cache_aside_load_duration_seconds_sum', { cache: 'shop' }),
      ).to.be.closeTo(7.0033, 1e-9);
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

    it('cache_aside_errors_total counts failed operations, and cache_aside_circuit_open follows the breaker', async () => {
      const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
      const store = new ChaosStore().alwaysThrow();
      const cache = makeCache({ store, circuitBreakerThreshold: 2, circuitBreakerHalfOpenAfterMs: 1_000 });
      const errors = (operation: string) =>
        sampleValue(registry, 'cache_aside_errors_total', { cache: 'shop', operation });
      const circuitOpen = () => sampleValue(registry, 'cache_aside_circuit_open', { cache: 'shop' });

      // A failed read (nothing more is asked of an unreachable Redis), then a failed write: two in a row.
      expect(await cache.get('k', () => 'v')).to.equal('v');
      await cache.set('k', 'v');
      expect([await errors('get'), await errors('set'), await circuitOpen()]).to.deep.equal([1, 1, 1]);

      // Skipped by the open circuit: not a Redis error.
      await cache.get('k', () => 'v');
      expect([await errors('get'), await errors('set')]).to.deep.equal([1, 1]);

      store.heal();
      clock.tick(1_000);
      await cache.get('k', () => 'v');
      expect(await circuitOpen()).to.equal(0);
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

    it('cache_aside_requests_total and cache_aside_request_duration_seconds observe the middleware’s request events', async () => {
      const cache = makeCache();
      const request = { route: '/api/items/:id', method: 'GET', durationSeconds: 0.0004 };
      cache.events.emit('request', { ...request, result: 'miss' });
      cache.events.emit('request', { ...request, result: 'hit' });
      cache.events.emit('request', { ...request, result: 'hit' });
      cache.events.emit('request', { ...request, result: 'bypass', reason: 'authorization' });

      const requests = (result: string) =>
        sampleValue(registry, 'cache_aside_requests_total', {
          route: '/api/items/:id',
          method: 'GET',
          result,
        });
      expect([await requests('hit'), await requests('miss'), await requests('bypass')]).to.deep.equal([
        2, 1, 1,
      ]);
      expect(
        await sampleValue(registry, 'cache_aside_request_duration_seconds_bucket', {
          route: '/api/items/:id',
          result: 'hit',
          le: 0.0005,
        }),
      ).to.equal(2);
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

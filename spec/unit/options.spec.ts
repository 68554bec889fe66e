import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createCache } from '../../src/create-cache.js';
import { CacheOptionError } from '../../src/errors.js';
import { type CacheOptions, resolveCacheOptions } from '../../src/options.js';
import { jsonSerializer } from '../../src/serialization/json-serializer.js';
import { msgpackSerializer } from '../../src/serialization/msgpack-serializer.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { silentLogger } from '../support/silent-logger.js';
import { createStubRedisClient } from '../support/stub-redis-client.js';

/** Options as a JavaScript caller might pass them: anything goes. */
type LooseOptions = Record<string, unknown>;

function creationError(options: LooseOptions): CacheOptionError {
  try {
    createCache({ registry: false, logger: silentLogger, ...options } as CacheOptions);
  } catch (error) {
    if (error instanceof CacheOptionError) return error;
    throw error;
  }
  throw new Error(`createCache accepted ${JSON.stringify(Object.keys(options))}`);
}

describe('createCache options', () => {
  describe('defaults', () => {
    it('resolves every default from a client alone', () => {
      const redis = createStubRedisClient();
      const config = resolveCacheOptions({ redis });
      expect(config).to.deep.include({
        redis,
        store: undefined,
        prefix: 'cache:',
        name: 'cache',
        ttlSeconds: 60,
        staleTtlSeconds: 0,
        serializer: jsonSerializer,
        failSafe: { staleWhileRevalidate: true, loadTimeoutMs: 0 },
        memoryTier: undefined,
        lock: { ttlMs: 5_000, waitMs: 5_000, pollMs: 10 },
        registry: undefined,
        metricsPrefix: 'cache_aside_',
        logger: undefined,
        logLevel: 'warn',
        resilience: {
          timeoutMs: 200,
          breakerThreshold: 5,
          breakerHalfOpenAfterMs: 2_000,
          invalidationAttempts: 3,
          invalidationBackoffMs: 50,
        },
      });
    });

    it('keeps every option it was given', () => {
      const registry = new Registry();
      const config = resolveCacheOptions({
        store: new MemoryStore(),
        prefix: 'shop:',
        name: 'catalogue',
        ttl: 30,
        staleTtl: 300,
        staleWhileRevalidate: false,
        loadTimeoutMs: 250,
        lockTtlMs: 1_000,
        lockWaitMs: 400,
        lockPollMs: 5,
        memoryTier: { maxEntries: 10, maxBytes: 1_024, ttlMs: 500 },
        serializer: msgpackSerializer,
        registry,
        metricsPrefix: 'shop_',
        logLevel: 'debug',
        redisTimeoutMs: 50,
        circuitBreakerThreshold: 0,
        circuitBreakerHalfOpenAfterMs: 10_000,
        invalidationAttempts: 1,
        invalidationBackoffMs: 0,
      });
      expect(config).to.deep.include({
        prefix: 'shop:',
        name: 'catalogue',
        ttlSeconds: 30,
        staleTtlSeconds: 300,
        failSafe: { staleWhileRevalidate: false, loadTimeoutMs: 250 },
        lock: { ttlMs: 1_000, waitMs: 400, pollMs: 5 },
        memoryTier: { maxEntries: 10, maxBytes: 1_024, ttlMs: 500 },
        serializer: msgpackSerializer,
        registry,
        metricsPrefix: 'shop_',
        logLevel: 'debug',
        resilience: {
          timeoutMs: 50,
          breakerThreshold: 0,
          breakerHalfOpenAfterMs: 10_000,
          invalidationAttempts: 1,
          invalidationBackoffMs: 0,
        },
      });
    });

    it('names the cache after its prefix without trailing colons', () => {
      const store = new MemoryStore();
      expect(resolveCacheOptions({ store, prefix: 'shop::' }).name).to.equal('shop');
      expect(resolveCacheOptions({ store, prefix: ':::' }).name).to.equal(':::');
    });

    it('turns the memory tier on with its defaults when given an empty object, and off with false', () => {
      const store = new MemoryStore();
      expect(resolveCacheOptions({ store, memoryTier: {} }).memoryTier).to.deep.equal({
        maxEntries: 10_000,
        maxBytes: 64 * 1024 * 1024,
        ttlMs: 1_000,
      });
      expect(resolveCacheOptions({ store, memoryTier: false }).memoryTier).to.equal(undefined);
    });

    it('waits for a peer load as long as the lock lives unless told otherwise', () => {
      expect(resolveCacheOptions({ store: new MemoryStore(), lockTtlMs: 800 }).lock.waitMs).to.equal(800);
    });

    it('accepts a fresh prom-client Registry and registry: false', () => {
      expect(() =>
        createCache({ store: new MemoryStore(), registry: new Registry(), logger: silentLogger }),
      ).to.not.throw();
      expect(() =>
        createCache({ store: new MemoryStore(), registry: false, logger: silentLogger }),
      ).to.not.throw();
    });
  });

  describe('rejects each invalid option with a TypeError that names it', () => {
    const store = new MemoryStore();
    const cases: Array<[string, LooseOptions, RegExp]> = [
      ['neither redis nor store', {}, /`redis` is required/],
      ['a number as redis', { redis: 42 }, /`redis`/],
      ['an object that is not a client as redis', { redis: { get() {} } }, /`redis`/],
      ['an object that is not a store as store', { store: { get() {} } }, /`store`/],
      ['an empty prefix', { store, prefix: '' }, /`prefix`/],
      ['a prefix that is not a string', { store, prefix: 42 }, /`prefix`/],
      ['an empty name', { store, name: '' }, /`name`/],
      ['a negative ttl', { store, ttl: -1 }, /`ttl`/],
      ['a ttl of 0', { store, ttl: 0 }, /`ttl`/],
      ['a NaN ttl', { store, ttl: Number.NaN }, /`ttl`/],
      ['an infinite ttl', { store, ttl: Number.POSITIVE_INFINITY }, /`ttl`/],
      ['a string ttl', { store, ttl: '60' }, /`ttl`/],
      ['a negative staleTtl', { store, staleTtl: -1 }, /`staleTtl`/],
      [
        'a serializer without deserialize',
        { store, serializer: { name: 'x', serialize: () => Buffer.alloc(0) } },
        /`serializer`/,
      ],
      [
        'a serializer without a name',
        { store, serializer: { ...jsonSerializer, name: undefined } },
        /`serializer`/,
      ],
      ['an unknown logLevel', { store, logLevel: 'loud' }, /`logLevel`/],
      ['a logLevel that is not a string', { store, logLevel: 3 }, /`logLevel`/],
      ['a logger that is not a winston Logger', { store, logger: console }, /`logger`/],
      ['a registry that is not a prom-client Registry', { store, registry: {} }, /`registry`/],
      ['a metricsPrefix starting with a digit', { store, metricsPrefix: '1cache_' }, /`metricsPrefix`/],
      ['a metricsPrefix with a dash', { store, metricsPrefix: 'cache-aside_' }, /`metricsPrefix`/],
      [
        'a non-boolean staleWhileRevalidate',
        { store, staleWhileRevalidate: 'yes' },
        /`staleWhileRevalidate`/,
      ],
      ['a negative loadTimeoutMs', { store, loadTimeoutMs: -1 }, /`loadTimeoutMs`/],
      ['a negative lockTtlMs', { store, lockTtlMs: -1 }, /`lockTtlMs`/],
      ['a negative lockWaitMs', { store, lockWaitMs: -1 }, /`lockWaitMs`/],
      ['a lockPollMs of 0', { store, lockPollMs: 0 }, /`lockPollMs`/],
      ['a memoryTier that is not an object', { store, memoryTier: 42 }, /`memoryTier`/],
      ['a null memoryTier', { store, memoryTier: null }, /`memoryTier`/],
      [
        'a fractional memoryTier.maxEntries',
        { store, memoryTier: { maxEntries: 1.5 } },
        /`memoryTier\.maxEntries`/,
      ],
      ['a memoryTier.maxBytes of 0', { store, memoryTier: { maxBytes: 0 } }, /`memoryTier\.maxBytes`/],
      ['a negative memoryTier.ttlMs', { store, memoryTier: { ttlMs: -1 } }, /`memoryTier\.ttlMs`/],
      ['a redisTimeoutMs of 0', { store, redisTimeoutMs: 0 }, /`redisTimeoutMs`/],
      [
        'a fractional circuitBreakerThreshold',
        { store, circuitBreakerThreshold: 1.5 },
        /`circuitBreakerThreshold`/,
      ],
      [
        'a negative circuitBreakerThreshold',
        { store, circuitBreakerThreshold: -1 },
        /`circuitBreakerThreshold`/,
      ],
      [
        'a circuitBreakerHalfOpenAfterMs of 0',
        { store, circuitBreakerHalfOpenAfterMs: 0 },
        /`circuitBreakerHalfOpenAfterMs`/,
      ],
      ['invalidationAttempts of 0', { store, invalidationAttempts: 0 }, /`invalidationAttempts`/],
      ['fractional invalidationAttempts', { store, invalidationAttempts: 2.5 }, /`invalidationAttempts`/],
      ['a negative invalidationBackoffMs', { store, invalidationBackoffMs: -1 }, /`invalidationBackoffMs`/],
      [
        'metricsBuckets that are an array',
        { store, metricsBuckets: [0.1, 1] },
        /`metricsBuckets` must be an object/,
      ],
      [
        'metricsBuckets for an unknown family',
        { store, metricsBuckets: { requests: [0.1] } },
        /`metricsBuckets` has no family `requests`/,
      ],
      [
        'metricsBuckets.load as one number',
        { store, metricsBuckets: { load: 0.1 } },
        /`metricsBuckets\.load`.*got 0\.1/,
      ],
      [
        'empty metricsBuckets.load',
        { store, metricsBuckets: { load: [] } },
        /`metricsBuckets\.load`.*got none/,
      ],
      [
        'metricsBuckets.redis out of order',
        { store, metricsBuckets: { redis: [0.001, 0.01, 0.005] } },
        /`metricsBuckets\.redis`.*ascending order; 0\.005 comes after 0\.01/,
      ],
      [
        'a repeated bound in metricsBuckets.request',
        { store, metricsBuckets: { request: [0.1, 0.1] } },
        /`metricsBuckets\.request`.*0\.1 comes after 0\.1/,
      ],
      [
        'a negative bound in metricsBuckets.request',
        { store, metricsBuckets: { request: [-1, 1] } },
        /`metricsBuckets\.request`.*item 0 is -1/,
      ],
      [
        'an infinite bound in metricsBuckets.load',
        { store, metricsBuckets: { load: [1, Number.POSITIVE_INFINITY] } },
        /`metricsBuckets\.load`.*item 1 is Infinity/,
      ],
      [
        'a string bound in metricsBuckets.load',
        { store, metricsBuckets: { load: ['0.1'] } },
        /`metricsBuckets\.load`.*item 0 is the string "0\.1"/,
      ],
    ];

    for (const [label, options, message] of cases) {
      it(label, () => {
        const error = creationError(options);
        expect(error).to.be.instanceOf(TypeError);
        expect(error.code).to.equal('E_INVALID_OPTION');
        expect(error.message).to.match(message);
      });
    }

    it('misspelt option names, with the name meant', () => {
      const meantFor: Record<string, string> = {
        staleTTL: 'staleTtl',
        prefx: 'prefix',
        memorytier: 'memoryTier',
        redisTimeout: 'redisTimeoutMs',
      };
      for (const [wrong, meant] of Object.entries(meantFor)) {
        expect(creationError({ store, [wrong]: 1 }).message).to.equal(
          `createCache: unknown option \`${wrong}\`: did you mean \`${meant}\`?`,
        );
      }
      expect(creationError({ store, l1: {} }).message).to.match(
        /unknown option `l1` \(known: redis, store, /,
      );
      expect(creationError({ store, memoryTier: { maxEntris: 5 } }).message).to.match(
        /`memoryTier`: unknown option `maxEntris`: did you mean `maxEntries`\?/,
      );
    });

    it('values of the wrong type, saying what was expected and what came', () => {
      expect(creationError({ store, ttl: '60' }).message).to.equal(
        '`ttl` must be a positive number of seconds, got the string "60"',
      );
      expect(creationError({ store, redisTimeoutMs: null }).message).to.equal(
        '`redisTimeoutMs` must be a positive number of milliseconds, got null',
      );
    });

    it('a node-redis client that was never connected, saying to connect it', () => {
      const redis = Object.assign(createStubRedisClient(), { isOpen: false });
      expect(creationError({ redis }).message).to.include('call `await client.connect()` first');
      const connected = Object.assign(createStubRedisClient(), { isOpen: true });
      expect(() => resolveCacheOptions({ redis: connected })).not.to.throw();
    });

    it('options that are not an object', () => {
      for (const options of [null, undefined, 42, 'redis://localhost']) {
        expect(() => createCache(options as unknown as CacheOptions)).to.throw(
          TypeError,
          /options must be an object/,
        );
      }
    });
  });
});

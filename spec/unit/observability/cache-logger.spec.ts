import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import winston from 'winston';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { CacheError } from '../../../src/errors.js';
import { responseCache } from '../../../src/http/response-cache.js';
import { createDefaultLogger, hashCacheKey } from '../../../src/observability/cache-logger.js';
import type { CacheOptions } from '../../../src/options.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { eventually } from '../../support/eventually.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { served } from '../../support/served.js';

const REDIS_FAILED = 'Redis call failed: requests are served without the cache until it recovers';

describe('cache logging (winston)', () => {
  let recording: RecordingLogger;
  let clock: sinon.SinonFakeTimers;

  function makeCache(options: Partial<CacheOptions> = {}): Cache {
    return createCache({
      store: new MemoryStore(),
      prefix: 'shop:',
      registry: false,
      logger: recording.logger,
      lockTtlMs: 0,
      ...options,
    });
  }

  beforeEach(() => {
    recording = new RecordingLogger('silly');
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
  });

  afterEach(() => {
    sinon.restore();
  });

  describe('failure streaks', () => {
    it('logs a Redis outage once as an error, the rest at debug, and its end once at warn', async () => {
      const store = new ChaosStore().alwaysThrow(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
      const cache = makeCache({ store, circuitBreakerThreshold: 0 });
      for (let request = 0; request < 5; request++) await cache.get(`item:${request}`, () => 'v');

      const errors = recording.at('error');
      expect(errors).to.have.lengthOf(1);
      expect(errors[0]).to.deep.include({
        message: REDIS_FAILED,
        cache: 'shop',
        operation: 'get',
        failures: 1,
        errorCode: 'E_STORE_FAILED',
        keyHash: hashCacheKey('shop:item:0'),
      });
      expect(errors[0]?.error).to.match(/ECONNREFUSED/);
      // One failed read per request (nothing more is asked of a Redis just found unreachable): 4 more.
      expect(recording.withMessage(REDIS_FAILED).filter((entry) => entry.level === 'debug')).to.have.lengthOf(
        4,
      );

      clock.tick(30_000);
      store.heal();
      await cache.get('item:0', () => 'v');
      expect(recording.withMessage('Redis recovered')).to.deep.equal([
        { level: 'warn', message: 'Redis recovered', cache: 'shop', failures: 5, durationSeconds: 30 },
      ]);

      store.alwaysThrow();
      await cache.get('item:1', () => 'v');
      expect(recording.at('error')).to.have.lengthOf(2);
    });

    it('ends a streak of connection errors at the next answered Redis call', async () => {
      const cache = makeCache();
      cache.events.emit('failure', {
        operation: 'connection',
        error: new Error('Socket closed unexpectedly'),
      });
      cache.events.emit('failure', {
        operation: 'connection',
        error: new Error('Socket closed unexpectedly'),
      });
      await cache.get('k', () => 'v');

      expect(recording.at('error').map((entry) => [entry.operation, entry.error])).to.deep.equal([
        ['connection', 'Socket closed unexpectedly'],
      ]);
      expect(recording.withMessage('Redis recovered')[0]).to.include({ failures: 2 });
    });

    it('logs a failing loader once as a warning and its recovery once', async () => {
      const cache = makeCache();
      const failingLoader = () => {
        throw new Error('database unavailable');
      };
      for (let attempt = 0; attempt < 3; attempt++) {
        await cache.get('k', failingLoader).catch(() => undefined);
      }
      await cache.get('k', () => 'v');

      const failures = recording.withMessage('loader failed');
      expect(failures.map((entry) => entry.level)).to.deep.equal(['warn', 'debug', 'debug']);
      expect(failures[0]).to.include({
        cache: 'shop',
        error: 'database unavailable',
        keyHash: hashCacheKey('k'),
      });
      expect(failures[0]).to.not.have.property('errorCode');
      expect(recording.withMessage('loader recovered')).to.deep.equal([
        { level: 'warn', message: 'loader recovered', cache: 'shop', failures: 3, durationSeconds: 0 },
      ]);
    });

    it('logs whatever a loader throws, even when it is not an Error', async () => {
      const cache = makeCache();
      await cache.get('k', () => Promise.reject('upstream timeout')).catch(() => undefined);
      expect(recording.withMessage('loader failed')[0]).to.include({
        level: 'warn',
        error: 'upstream timeout',
      });
    });

    it('warns once about undecodable entries, until an entry decodes again', async () => {
      const store = new MemoryStore();
      await store.set('shop:a', Buffer.from('garbage'), { ttlMs: 60_000 });
      await store.set('shop:b', Buffer.from('garbage'), { ttlMs: 60_000 });
      const cache = makeCache({ store });
      await cache.get('a', () => 'v');
      await cache.get('b', () => 'v');
      await cache.get('a', () => 'v');

      const message = 'undecodable cache entry: treated as a miss and overwritten';
      expect(recording.withMessage(message).map((entry) => entry.level)).to.deep.equal(['warn', 'debug']);
      expect(recording.withMessage('cache entries decode again')[0]).to.include({
        level: 'warn',
        failures: 2,
      });
    });

    it('reports a value that cannot be encoded once as an error, until a value is stored again', async () => {
      const cache = makeCache();
      await cache.get('a', () => ({ id: 1n }));
      await cache.get('b', () => ({ id: 2n }));
      await cache.get('c', () => ({ id: 3 }));

      const message = 'value could not be encoded: it is not cached';
      expect(recording.withMessage(message).map((entry) => entry.level)).to.deep.equal(['error', 'debug']);
      expect(recording.withMessage('values encode again')[0]).to.include({ level: 'warn', failures: 2 });
    });

    it('logs no recovery when nothing failed', async () => {
      const cache = makeCache();
      await cache.get('k', () => 'v');
      expect(recording.entries.filter((entry) => entry.level !== 'debug')).to.deep.equal([]);
    });
  });

  it('warns once when the circuit breaker opens and once when it closes, however many probes fail', async () => {
    const store = new ChaosStore().alwaysThrow();
    const cache = makeCache({ store, circuitBreakerThreshold: 2, circuitBreakerHalfOpenAfterMs: 1_000 });
    // Two failed reads in a row open the circuit; each second after, a probe fails.
    for (let request = 0; request < 8; request++) {
      await cache.get('k', () => 'v');
      clock.tick(500);
    }
    store.heal();
    clock.tick(1_000);
    await cache.get('k', () => 'v');

    expect(recording.entries.filter((entry) => /circuit breaker/.test(entry.message))).to.deep.equal([
      {
        level: 'warn',
        message: 'circuit breaker open: Redis is skipped until a probe call succeeds',
        cache: 'shop',
      },
      { level: 'warn', message: 'circuit breaker closed: Redis is used again', cache: 'shop' },
    ]);
    expect(store.calls.length, 'probes reached the store').to.be.greaterThan(2);
  });

  it("names the node on a Cluster, where each master's circuit opens and closes on its own", () => {
    const cache = makeCache();
    cache.events.emit('circuit', { open: true, node: '10.0.0.1:6379' });
    cache.events.emit('circuit', { open: false, node: '10.0.0.1:6379' });
    expect(recording.entries.filter((entry) => /circuit breaker/.test(entry.message))).to.deep.equal([
      {
        level: 'warn',
        message:
          'circuit breaker open for Redis node 10.0.0.1:6379: its slots are skipped until a probe call succeeds',
        cache: 'shop',
        node: '10.0.0.1:6379',
      },
      {
        level: 'warn',
        message: 'circuit breaker closed for Redis node 10.0.0.1:6379: its slots are used again',
        cache: 'shop',
        node: '10.0.0.1:6379',
      },
    ]);
  });

  it("starts no Redis failure streak for calls an open circuit skips, while a Cluster's other masters answer", () => {
    const cache = makeCache();
    const skipped = new CacheError('E_CIRCUIT_OPEN', 'get skipped: the circuit is open');
    for (let request = 0; request < 3; request++) {
      cache.events.emit('store-operation', { operation: 'get', durationSeconds: 0.001, failed: false });
      cache.events.emit('failure', { operation: 'get', error: skipped, key: 'shop:on-the-dead-master' });
    }
    expect(recording.at('error'), 'no error line per skipped call').to.deep.equal([]);
    expect(recording.withMessage('Redis recovered'), 'nor a recovery after each').to.deep.equal([]);
    expect(recording.withMessage(REDIS_FAILED).map((entry) => entry.level)).to.deep.equal([
      'debug',
      'debug',
      'debug',
    ]);

    // A call that did fail starts one; calls skipped then belong to it.
    cache.events.emit('failure', {
      operation: 'get',
      error: new Error('connect ECONNREFUSED'),
      key: 'shop:k',
    });
    cache.events.emit('failure', { operation: 'get', error: skipped, key: 'shop:k' });
    expect(recording.at('error')).to.have.lengthOf(1);
    cache.events.emit('store-operation', { operation: 'get', durationSeconds: 0.001, failed: false });
    expect(recording.withMessage('Redis recovered')[0]).to.include({ failures: 2 });
  });

  it('warns of every mode switch, saying whether it came from another instance (and of no shadow lookup)', async () => {
    recording = new RecordingLogger('warn');
    const cache = makeCache();
    await cache.setMode('shadow');
    await cache.get('k', () => 'v');
    cache.events.emit('mode', { mode: 'off', previous: 'shadow', fromAnotherInstance: true });
    expect(recording.entries).to.deep.equal([
      {
        level: 'warn',
        message: 'cache mode switched to shadow',
        cache: 'shop',
        mode: 'shadow',
        previous: 'on',
        fromAnotherInstance: false,
      },
      {
        level: 'warn',
        message: 'cache mode switched to off',
        cache: 'shop',
        mode: 'off',
        previous: 'shadow',
        fromAnotherInstance: true,
      },
    ]);
  });

  it('logs shadow lookups at debug level with what the cache would have answered', async () => {
    const cache = makeCache();
    await cache.setMode('shadow');
    await cache.get('k', () => 'v');
    cache.events.emit('shadow', { key: 'k', route: '/items/:id', would: 'hit', match: 'same' });
    const shadow = recording.at('debug').filter((entry) => entry.message === 'cache shadow lookup');
    expect(shadow).to.deep.equal([
      {
        level: 'debug',
        message: 'cache shadow lookup',
        cache: 'shop',
        keyHash: hashCacheKey('k'),
        would: 'miss',
        match: 'none',
      },
      {
        level: 'debug',
        message: 'cache shadow lookup',
        cache: 'shop',
        keyHash: hashCacheKey('k'),
        would: 'hit',
        match: 'same',
        route: '/items/:id',
      },
    ]);
  });

  it('logs requests at http level with route, method, result, duration and reason', () => {
    const cache = makeCache();
    const request = { route: '/api/items/:id', method: 'GET', status: 200, durationSeconds: 0.0015 };
    cache.events.emit('request', { ...request, result: 'bypass', reason: 'authorization' });
    cache.events.emit('request', { ...request, result: 'hit' });

    expect(recording.at('http')).to.deep.equal([
      {
        level: 'http',
        message: 'cache request',
        cache: 'shop',
        ...withoutSeconds(request),
        result: 'bypass',
        reason: 'authorization',
      },
      { level: 'http', message: 'cache request', cache: 'shop', ...withoutSeconds(request), result: 'hit' },
    ]);
  });

  it('logs invalidations at verbose level with their kind and count', async () => {
    const cache = makeCache();
    await cache.set('item:1', 'v', { tags: ['items'] });
    await cache.invalidateTags(['items']);
    expect(recording.at('verbose')).to.deep.equal([
      { level: 'verbose', message: 'cache invalidation', cache: 'shop', kind: 'tag', count: 1 },
    ]);
  });

  describe('the invalidation queue', () => {
    const QUEUED =
      'invalidation could not reach Redis: queued for replay; until the queue is replayed this instance reads nothing from Redis';

    it('logs an outage once: a warning when the first invalidation is queued, the replay once it begins and once the queue is empty', () => {
      const cache = makeCache();
      cache.events.emit('invalidation-queued', { kind: 'tag', queueSize: 1 });
      cache.events.emit('invalidation-queued', { kind: 'key', queueSize: 2 });
      clock.tick(4_000);
      cache.events.emit('invalidation-replayed', { kind: 'tag', queueSize: 1 });
      cache.events.emit('invalidation-replayed', { kind: 'key', queueSize: 0 });

      expect(recording.entries.filter((entry) => entry.level !== 'debug')).to.deep.equal([
        { level: 'warn', message: QUEUED, cache: 'shop', kind: 'tag', queueSize: 1 },
        {
          level: 'info',
          message: 'Redis answers again: replaying queued invalidations',
          cache: 'shop',
          queueSize: 2,
        },
        {
          level: 'info',
          message: 'invalidation queue empty: this instance reads from Redis again',
          cache: 'shop',
          replayed: 2,
          droppedOverflow: 0,
          droppedAge: 0,
          durationSeconds: 4,
        },
      ]);
      expect(recording.at('debug').map((entry) => entry.message)).to.deep.equal(['invalidation queued']);

      recording.clear();
      cache.events.emit('invalidation-queued', { kind: 'pattern', queueSize: 1 });
      expect(recording.entries.map((entry) => [entry.level, entry.message])).to.deep.equal([
        ['warn', QUEUED],
      ]);
    });

    it('warns about the first invalidation given up for each reason, counts the rest, and ends an outage the drops emptied', () => {
      const cache = makeCache();
      cache.events.emit('invalidation-queued', { kind: 'tag', queueSize: 1 });
      cache.events.emit('invalidation-dropped', { kind: 'key', reason: 'overflow', queueSize: 1 });
      cache.events.emit('invalidation-dropped', { kind: 'key', reason: 'overflow', queueSize: 1 });
      cache.events.emit('invalidation-dropped', { kind: 'tag', reason: 'age', queueSize: 0 });

      expect(recording.entries.slice(1).map((entry) => [entry.level, entry.message])).to.deep.equal([
        ['warn', 'invalidation not queued: the invalidation queue is full, so it will never be replayed'],
        ['debug', 'invalidation not queued: the invalidation queue is full, so it will never be replayed'],
        ['warn', 'queued invalidation given up after invalidationQueue.maxAgeMs: it will never be replayed'],
        ['info', 'invalidation queue empty: this instance reads from Redis again'],
      ]);
      expect(recording.entries.at(-1)).to.include({ replayed: 0, droppedOverflow: 2, droppedAge: 1 });
      // A replay with no outage under way to end says nothing.
      recording.clear();
      cache.events.emit('invalidation-replayed', { kind: 'tag', queueSize: 0 });
      expect(recording.entries).to.deep.equal([]);
    });
  });

  it('logs purges at warn level with who, when, what and how many, and a failed one as an error', () => {
    const cache = makeCache();
    cache.events.emit('purge', { kind: 'tag', target: 'items', actor: 'ops@example', purged: 3 });
    cache.events.emit('purge-failed', {
      kind: 'pattern',
      target: '/api/*',
      actor: '10.0.0.1',
      error: new CacheError('E_INVALIDATION_FAILED', 'invalidation (delete_matching) failed: down'),
    });
    const at = new Date(1_700_000_000_000).toISOString();
    expect(recording.at('warn')).to.deep.equal([
      {
        level: 'warn',
        message: 'cache purge',
        cache: 'shop',
        kind: 'tag',
        target: 'items',
        actor: 'ops@example',
        purged: 3,
        at,
      },
    ]);
    expect(recording.at('error')).to.deep.equal([
      {
        level: 'error',
        message: 'cache purge failed',
        cache: 'shop',
        kind: 'pattern',
        target: '/api/*',
        actor: '10.0.0.1',
        at,
        error: 'invalidation (delete_matching) failed: down',
        errorCode: 'E_INVALIDATION_FAILED',
      },
    ]);
  });

  it('logs lookups, loads and shared loads at debug level, naming keys only by their hash', async () => {
    const cache = makeCache();
    const key = 'user:alice@example.com';
    await Promise.all([cache.get(key, async () => 'alice'), cache.get(key, async () => 'alice')]);
    await cache.get(key, () => 'alice');

    const debug = recording.at('debug');
    expect(debug.map((entry) => [entry.message, entry.result ?? null])).to.deep.equal([
      ['cache lookup', 'miss'],
      ['cache lookup', 'miss'],
      ['cache load shared', null],
      ['cache load', null],
      ['cache lookup', 'hit'],
    ]);
    expect(debug.every((entry) => entry.keyHash === hashCacheKey(key))).to.equal(true);
    expect(debug.find((entry) => entry.message === 'cache load')?.durationMs).to.be.a('number');
    expect(JSON.stringify(recording.entries)).to.not.include('alice@example.com');
  });

  it('stays silent about a healthy cache at the default warn level, and tells each outage as one start and one end', async () => {
    recording = new RecordingLogger('warn');
    const healthy = makeCache();
    await Promise.all([healthy.get('k', async () => 'v'), healthy.get('k', async () => 'v')]);
    await healthy.get('k', () => 'v');
    await healthy.invalidate('k');
    healthy.events.emit('request', {
      route: '/r',
      method: 'GET',
      result: 'hit',
      status: 200,
      durationSeconds: 0.001,
    });
    expect(recording.entries).to.deep.equal([]);

    const store = new ChaosStore().alwaysThrow();
    const broken = makeCache({ store, circuitBreakerThreshold: 0 });
    let sourceDown = true;
    const loader = () => (sourceDown ? Promise.reject(new Error('down')) : Promise.resolve('v'));
    for (let request = 0; request < 3; request++)
      await broken.get(`k${request}`, loader).catch(() => undefined);
    store.heal();
    sourceDown = false;
    for (let request = 0; request < 3; request++) await broken.get(`k${request}`, loader);
    expect(recording.entries.map((entry) => `${entry.level} ${entry.message}`)).to.deep.equal([
      `error ${REDIS_FAILED}`,
      'warn loader failed',
      'warn Redis recovered',
      'warn loader recovered',
    ]);
  });

  describe('loader streaks by group', () => {
    it('follows each group apart: one route loading again does not end another route’s streak', async () => {
      const cache = makeCache();
      const failing = () => Promise.reject(new Error('reports database down'));
      await cache.get('r1', failing, { group: '/api/reports/:id' }).catch(() => undefined);
      await cache.get('n1', () => 'news', { group: '/api/news' });
      await cache.get('r2', failing, { group: '/api/reports/:id' }).catch(() => undefined);
      await cache.get('n2', () => 'news', { group: '/api/news' });

      expect(
        recording.entries
          .filter((entry) => entry.level !== 'debug' || entry.message === 'loader failed')
          .map((entry) => [entry.level, entry.message, entry.group, entry.failures]),
      ).to.deep.equal([
        ['warn', 'loader failed', '/api/reports/:id', 1],
        ['debug', 'loader failed', '/api/reports/:id', 2],
      ]);

      await cache.get('r3', () => 'report', { group: '/api/reports/:id' });
      expect(recording.withMessage('loader recovered')).to.deep.equal([
        {
          level: 'warn',
          message: 'loader recovered',
          cache: 'shop',
          group: '/api/reports/:id',
          failures: 2,
          durationSeconds: 0,
        },
      ]);
    });

    it('tells a route whose handler answers 5xx as a failing loader, until it answers again', async () => {
      const cache = makeCache();
      let status = 503;
      const app = express();
      app.get('/api/reports/:id', responseCache(cache), (_req, res) => {
        res.status(status).json({ status });
      });
      const server = await served(app);
      const loaderEntries = () =>
        recording.entries.filter((entry) => entry.message.startsWith('loader') && entry.level === 'warn');
      for (const id of [1, 2, 3]) await request(server).get(`/api/reports/${id}`);
      await eventually(() => loaderEntries().length === 1);
      status = 200;
      await request(server).get('/api/reports/4');
      await eventually(() => loaderEntries().length === 2);

      expect(loaderEntries().map((entry) => [entry.message, entry.group, entry.failures])).to.deep.equal([
        ['loader failed', '/api/reports/:id', 1],
        ['loader recovered', '/api/reports/:id', 3],
      ]);
      expect(loaderEntries()[0]?.error).to.match(/status 503/);
    });
  });

  describe('createDefaultLogger', () => {
    it('is a console logger at the given level that writes JSON lines with a timestamp', () => {
      const logger = createDefaultLogger('warn');
      expect(logger.level).to.equal('warn');
      expect(logger.isLevelEnabled('info')).to.equal(false);
      expect(logger.transports).to.have.lengthOf(1);
      expect(logger.transports[0]).to.be.instanceOf(winston.transports.Console);

      const line = logger.format.transform({ level: 'warn', message: 'm', cache: 'shop' });
      const written = JSON.parse((line as Record<symbol, string>)[Symbol.for('message')] as string);
      expect(written).to.include({ level: 'warn', message: 'm', cache: 'shop' });
      expect(Date.parse(written.timestamp)).to.equal(1_700_000_000_000);
    });
  });
});

function withoutSeconds(request: { route: string; method: string; status: number; durationSeconds: number }) {
  return {
    route: request.route,
    method: request.method,
    status: request.status,
    durationMs: request.durationSeconds * 1000,
  };
}

describe('hashCacheKey', () => {
  it('is 16 hex characters that do not reveal the key', () => {
    const hash = hashCacheKey('user:alice@example.com');
    expect(hash).to.match(/^[0-9a-f]{16}$/);
    expect(hash).to.not.include('alice');
  });

  it('is stable across calls, so entries about one key can be correlated', () => {
    expect(hashCacheKey('GET /api/items/1')).to.equal(hashCacheKey('GET /api/items/1'));
  });

  it('differs between keys', () => {
    expect(hashCacheKey('GET /api/items/1')).to.not.equal(hashCacheKey('GET /api/items/2'));
  });
});

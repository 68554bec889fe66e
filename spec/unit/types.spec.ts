// Type tests of the public API: every `@ts-expect-error` line must fail to compile (`tsc --noEmit`
// fails if one compiles), and each call is also run to show what a JavaScript caller would get.
import { expect } from 'chai';
import { createClient, createCluster } from 'redis';
import {
  type Cache,
  type CacheErrorCode,
  type CacheMode,
  type CacheOptions,
  type CacheStats,
  cacheAdmin,
  createCache,
  type LookupOutcome,
  MemoryStore,
  type MetricsBuckets,
  type PurgeKind,
  type RequestResult,
} from '../../src/index.js';
import { rejectionOf } from '../support/rejection-of.js';
import { silentLogger } from '../support/silent-logger.js';

const logger = silentLogger;
const memoryCache = (): Cache => createCache({ store: new MemoryStore(), registry: false, logger });

describe('public API types', () => {
  describe('createCache', () => {
    it('types a client from createClient() as redis, and refuses it until it is connected', () => {
      const options: CacheOptions = {
        redis: createClient({ url: 'redis://127.0.0.1:6379' }),
        registry: false,
        logger,
      };
      expect(() => createCache(options)).to.throw(TypeError, /call `await client.connect\(\)` first/);
    });

    it('types a client from createCluster() as redis, and refuses it until it is connected', () => {
      const redis = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] });
      expect(() => createCache({ redis, registry: false, logger })).to.throw(TypeError, /connect/);
    });

    it('rejects a redis that is not a client', () => {
      // @ts-expect-error redis must be a node-redis client
      expect(() => createCache({ redis: 42, registry: false })).to.throw(TypeError, /redis/);
      // @ts-expect-error a URL is not a client: connect one with createClient() or connectRedis()
      expect(() => createCache({ redis: 'redis://localhost:6379', registry: false })).to.throw(
        TypeError,
        /redis/,
      );
    });

    it('rejects options of the wrong type', () => {
      const store = new MemoryStore();
      // @ts-expect-error ttl is a number of seconds
      expect(() => createCache({ store, ttl: '60', registry: false })).to.throw(TypeError, /ttl/);
      // @ts-expect-error prefix is a string
      expect(() => createCache({ store, prefix: 1, registry: false })).to.throw(TypeError, /prefix/);
      const nameless = { serialize: () => Buffer.alloc(0), deserialize: () => null };
      // @ts-expect-error a serializer needs a name
      expect(() => createCache({ store, serializer: nameless, registry: false })).to.throw(
        TypeError,
        /serializer/,
      );
      // @ts-expect-error registry is a prom-client Registry or false
      expect(() => createCache({ store, registry: true })).to.throw(TypeError, /registry/);
      const buckets: MetricsBuckets = { request: [0.005, 0.05, 0.5], load: [0.1, 1] };
      expect(() => createCache({ store, registry: false, metricsBuckets: buckets })).to.not.throw();
      // @ts-expect-error the families are request, load and redis
      expect(() => createCache({ store, registry: false, metricsBuckets: { requests: [1] } })).to.throw(
        TypeError,
        /no family `requests`/,
      );
      // @ts-expect-error buckets are numbers of seconds
      expect(() => createCache({ store, registry: false, metricsBuckets: { load: ['1'] } })).to.throw(
        TypeError,
        /metricsBuckets\.load/,
      );
      // @ts-expect-error a version is a release name, a string
      expect(() => createCache({ store, version: 2, registry: false })).to.throw(TypeError, /version/);
      // @ts-expect-error ttlJitter is a fraction
      expect(() => createCache({ store, ttlJitter: '10%', registry: false })).to.throw(
        TypeError,
        /ttlJitter/,
      );
    });

    it('types the options of invalidate and invalidatePattern', async () => {
      const cache = memoryCache();
      expect(await cache.invalidate('k', { allVersions: false })).to.equal(false);
      // @ts-expect-error allVersions is a boolean
      expect(await rejectionOf(cache.invalidatePattern('k*', { allVersions: 'no' }))).to.be.instanceOf(
        TypeError,
      );
      await cache.close();
    });

    it('rejects misspelled options instead of ignoring them', () => {
      expect(() =>
        // @ts-expect-error the option is `ttl`, in seconds
        createCache({ store: new MemoryStore(), registry: false, logger, ttlSeconds: 5 }),
      ).to.throw(TypeError, /unknown option `ttlSeconds`/);
    });
  });

  describe('Cache methods', () => {
    it('infers the value type from the loader', async () => {
      const cache = memoryCache();
      const count: number = await cache.get('count', () => 1);
      const user: { id: number } = await cache.get('user', async () => ({ id: 1 }));
      // @ts-expect-error the loader returns a number, not a string
      const wrong: string = await cache.get('other', () => 2);
      expect([count, user, wrong]).to.deep.equal([1, { id: 1 }, 2]);
    });

    it('requires the loader to be a function', async () => {
      const cache = memoryCache();
      // @ts-expect-error the loader is a function of the key
      const error = await rejectionOf(() => cache.get('k', 'not a function'));
      expect(error).to.be.instanceOf(TypeError);
    });

    it('types per-call options by the value', async () => {
      const cache = memoryCache();
      await cache.set('user:1', { id: 1, team: 'red' }, { ttl: (user) => (user.team === 'red' ? 10 : 60) });
      await cache.set('user:2', { id: 2 }, { tags: (user) => [`user:${user.id}`] });
      // @ts-expect-error the value has no `missing` field
      await cache.set('user:3', { id: 3 }, { tags: (user) => [String(user.missing)] });
      // @ts-expect-error ttl is a number of seconds
      expect(await rejectionOf(() => cache.get('k', () => 1, { ttl: '60' }))).to.be.instanceOf(TypeError);
      // @ts-expect-error tags is a list of strings
      expect(await rejectionOf(() => cache.get('k', () => 1, { tags: 'user' }))).to.be.instanceOf(TypeError);
      await cache.get('user:4', () => 4, { group: (key: string) => key.split(':')[0] });
      // @ts-expect-error group is a name or a function of the key
      expect(await rejectionOf(() => cache.get('k', () => 1, { group: 7 }))).to.be.instanceOf(TypeError);
    });

    it('requires getMany loaders to return one value per missing key', async () => {
      const cache = memoryCache();
      const values: string[] = await cache.getMany(['a', 'b'], (keys) =>
        keys.map((key) => key.toUpperCase()),
      );
      expect(values).to.deep.equal(['A', 'B']);
      // @ts-expect-error the batch loader returns an array
      expect(await rejectionOf(() => cache.getMany(['c'], () => 'C'))).to.be.instanceOf(TypeError);
    });

    it('types lookup results, stats and error codes as closed sets', async () => {
      const cache = memoryCache();
      const outcome: LookupOutcome<number> = await cache.lookup('k', () => 1);
      // @ts-expect-error a lookup is a hit, a miss or stale; bypass is an HTTP outcome
      const bypassed = outcome.result === 'bypass';
      const stats: CacheStats = cache.stats();
      const ratio: number = stats.hitRatio;
      // @ts-expect-error error codes are a closed set
      const code: CacheErrorCode = 'E_NOPE';
      expect([bypassed, ratio, code]).to.deep.equal([false, 0, 'E_NOPE']);
    });

    it("adds 'queued' to what an invalidation resolves to only when the call may queue it", async () => {
      const cache = memoryCache();
      const existed: boolean = await cache.invalidate('k');
      const deleted: number = await cache.invalidateTags(['t']);
      const matched: number = await cache.invalidatePattern('k*');
      const queueable: number | 'queued' = await cache.invalidateTags(['t'], { queueOnFailure: true });
      // @ts-expect-error with queueOnFailure the call may resolve to 'queued' instead of a count
      const count: number = await cache.invalidatePattern('k*', { queueOnFailure: true });
      // @ts-expect-error queueOnFailure is a boolean
      await rejectionOf(() => cache.invalidate('k', { queueOnFailure: 'yes' }));
      expect([existed, deleted, matched, queueable, count]).to.deep.equal([false, 0, 0, 0, 0]);
    });

    it('types modes as a closed set, and the shadow verdict of a lookup by the value', async () => {
      const cache = memoryCache();
      const mode: CacheMode = cache.mode;
      // @ts-expect-error the modes are on, off and shadow
      expect(await rejectionOf(() => cache.setMode('disabled'))).to.be.instanceOf(TypeError);
      // @ts-expect-error everywhere is a boolean
      expect(await rejectionOf(() => cache.setMode('off', { everywhere: 'yes' }))).to.be.instanceOf(
        TypeError,
      );
      await cache.setMode('shadow');
      const outcome = await cache.lookup('k', () => 1);
      const cached: number | undefined = outcome.shadow?.cached;
      expect([mode, cached, outcome.shadow?.would]).to.deep.equal(['on', undefined, 'miss']);
    });

    it('requires serializers to produce bytes', async () => {
      const textSerializer = {
        name: 'text',
        serialize: (value: unknown) => String(value),
        deserialize: (bytes: Buffer) => bytes.toString(),
      };
      const options = {
        store: new MemoryStore(),
        serializer: textSerializer,
        registry: false as const,
        logger,
      };
      // @ts-expect-error serialize() must return a Buffer
      const cache = createCache(options);
      await cache.set('k', 'value');
      expect(cache.stats().errors).to.equal(1);
    });
  });

  describe('cache.events', () => {
    it('types the middleware events (request, key-error) beside the engine ones', () => {
      const cache = memoryCache();
      const seen: string[] = [];
      cache.events.on('request', ({ route, method, result, status, durationSeconds, reason }) => {
        const answered: RequestResult = result;
        seen.push(`${method} ${route} ${answered} ${status} ${durationSeconds} ${reason ?? ''}`);
      });
      cache.events.on('key-error', ({ route, option }) => seen.push(`${route} ${option}`));
      cache.events.on('lookup', ({ key, result }) => seen.push(`${key} ${result}`));
      // @ts-expect-error a request result is a lookup result or bypass
      const result: RequestResult = 'error';
      // @ts-expect-error events are a closed set
      cache.events.on('requests', () => undefined);
      cache.events.emit('request', {
        route: '/a',
        method: 'GET',
        result: 'bypass',
        status: 200,
        durationSeconds: 0,
      });
      expect([seen, result]).to.deep.equal([['GET /a bypass 200 0 '], 'error']);
    });
  });

  describe('cacheAdmin', () => {
    it('needs an authorize function, sync or async, that may answer undefined', () => {
      const cache = memoryCache();
      // @ts-expect-error authorize is required: the router must never be public
      expect(() => cacheAdmin(cache, {})).to.throw(TypeError, /authorize/);
      // @ts-expect-error authorize is a function of the request
      expect(() => cacheAdmin(cache, { authorize: true })).to.throw(TypeError, /authorize/);
      const roles = new Map([['ops', 'admin']]);
      expect(
        cacheAdmin(cache, { authorize: (req) => roles.get(String(req.get('x-user'))) === 'admin' }),
      ).to.be.a('function');
      expect(cacheAdmin(cache, { authorize: async () => undefined, actor: (req) => req.ip })).to.be.a(
        'function',
      );
    });

    it('types the purge events beside the others', () => {
      const cache = memoryCache();
      const seen: string[] = [];
      cache.events.on('purge', ({ kind, target, actor, purged }) => {
        const purgeKind: PurgeKind = kind;
        seen.push(`${purgeKind} ${target} ${actor} ${purged}`);
      });
      // @ts-expect-error a purge is of an entry, a tag or a pattern
      const kind: PurgeKind = 'key';
      cache.events.emit('purge', { kind: 'tag', target: 'items', actor: 'ops', purged: 2 });
      expect([seen, kind]).to.deep.equal([['tag items ops 2'], 'key']);
    });
  });
});

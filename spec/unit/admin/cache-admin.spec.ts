import { expect } from 'chai';
import { type CacheAdminOptions, CacheError, cacheAdmin, responseCacheKey } from '../../../src/index.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { createAdminApp } from '../../support/admin-app.js';
import { express4, express5 } from '../../support/app-factory.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { withoutInspection } from '../../support/inspection-stores.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { makeCache } from '../engine/make-cache.js';

const allow = () => true;

describe('cacheAdmin (admin router): creation', () => {
  const cache = makeCache();

  it('refuses to be created without an `authorize` function, naming it', () => {
    for (const options of [undefined, {}, { authorize: true }, { authorize: 'admin' }, null]) {
      expect(() => cacheAdmin(cache, options as unknown as CacheAdminOptions), JSON.stringify(options))
        .to.throw(TypeError, '`authorize`')
        .with.property('code', 'E_INVALID_OPTION');
    }
  });

  it('refuses unknown options, a non-function `actor` and an `origin` that is not a scheme and host', () => {
    const create = (options: object) => () =>
      cacheAdmin(cache, { authorize: allow, ...options } as CacheAdminOptions);
    expect(create({ authorise: allow })).to.throw(TypeError, 'unknown option `authorise`');
    expect(create({ actor: 'ops' })).to.throw(TypeError, '`actor` must be a function');
    for (const origin of ['shop.example', 'https://shop.example/path', 42]) {
      expect(create({ origin }), String(origin)).to.throw(TypeError, '`origin` must be a scheme and host');
    }
    expect(create({ origin: 'https://shop.example:8443', actor: () => 'ops' })).to.not.throw();
  });
});

for (const [name, express] of [
  ['Express 5', express5],
  ['Express 4', express4],
] as const) {
  describe(`cacheAdmin (admin router) on ${name}`, () => {
    describe('authorization', () => {
      for (const [kind, authorize] of [
        ['sync', (req: { get(name: string): string | undefined }) => req.get('x-admin') === 'yes'],
        ['async', async (req: { get(name: string): string | undefined }) => req.get('x-admin') === 'yes'],
      ] as const) {
        it(`answers 403 when a ${kind} authorize says no, and purges nothing`, async () => {
          const cache = makeCache();
          const admin = createAdminApp({ cache, express, authorize });
          await admin.cached('/api/items/1');
          const runs = admin.calls('item');
          const agent = await admin.request();
          for (const [method, path] of [
            ['delete', '/_cache/tags/items'],
            ['delete', '/_cache/entries?pattern=/*&confirm=all'],
            ['delete', '/_cache/entry?url=/api/items/1'],
            ['get', '/_cache/stats'],
            ['get', '/_cache/no-such-path'],
          ] as const) {
            const response = await agent[method](path).set('X-Admin', 'no').expect(403);
            expect(response.body, path).to.deep.equal({
              error: 'not authorized to use the cache admin router',
            });
          }
          await agent.get('/api/items/1').expect(200).expect('X-Cache', 'HIT');
          expect(admin.calls('item')).to.equal(runs);
        });
      }

      it('lets a request through only when authorize returns true itself, not a truthy value', async () => {
        for (const answer of [1, 'yes', {}, undefined, false]) {
          const admin = createAdminApp({ cache: makeCache(), express, authorize: () => answer as boolean });
          await (await admin.request()).get('/_cache/stats').expect(403);
        }
      });

      it('passes an authorize that throws or rejects to next(err), answering nothing itself', async () => {
        for (const authorize of [
          () => {
            throw new Error('session store down');
          },
          () => Promise.reject(new Error('session store down')),
        ]) {
          const admin = createAdminApp({ cache: makeCache(), express, authorize });
          const response = await (await admin.request()).get('/_cache/stats').expect(500);
          expect(response.body).to.deep.equal({ error: 'internal error' });
          expect(String(admin.errors[0])).to.include('session store down');
        }
      });

      it('marks every answer `Cache-Control: no-store`, refusals included', async () => {
        const admin = createAdminApp({ cache: makeCache(), express });
        await (await admin.request()).get('/_cache/stats').expect(403).expect('Cache-Control', 'no-store');
        const allowed = await admin.admin('get', '/_cache/stats', 200);
        expect(allowed.headers['cache-control']).to.equal('no-store');
      });
    });

    describe('input', () => {
      const refusals: [method: 'get' | 'delete', path: string, parameter: string, says: string][] = [
        ['get', '/_cache/entry', 'url', 'missing `url`'],
        ['delete', '/_cache/entry', 'url', 'missing `url`'],
        ['get', '/_cache/entry?url=', 'url', 'must not be empty'],
        ['get', '/_cache/entry?url=/a&url=/b', 'url', 'more than once'],
        ['get', '/_cache/entry?url=/a&key=k', 'key', 'not both'],
        ['get', '/_cache/entry?url=api/items/1', 'url', 'a path (`/api/items/1`) or an absolute URL'],
        ['get', '/_cache/entry?url=https://shop.example/a&origin=https://other.example', 'origin', 'leave'],
        ['get', '/_cache/entry?url=/a&header=accept', 'header', '`name: value`'],
        ['get', '/_cache/entry?url=/a&header=bad name: x', 'header', '`name: value`'],
        ['get', '/_cache/entry?uri=/a', 'uri', 'unknown parameter `uri`'],
        ['get', '/_cache/tags/items?limit=0', 'limit', 'from 1 to 1000'],
        ['get', '/_cache/tags/items?limit=1001', 'limit', 'from 1 to 1000'],
        ['get', '/_cache/tags/items?limit=ten', 'limit', 'from 1 to 1000'],
        ['get', '/_cache/tags/items?limit=-5', 'limit', 'from 1 to 1000'],
        ['delete', '/_cache/tags/items?force=1', 'force', 'unknown parameter'],
        ['delete', '/_cache/entries', 'pattern', 'missing `pattern`'],
        ['delete', '/_cache/entries?pattern=api/*', 'pattern', 'must start with `/`'],
        ['delete', '/_cache/entries?pattern=/*', 'confirm', 'every cached response'],
        ['delete', '/_cache/entries?pattern=/**', 'confirm', 'every cached response'],
        ['delete', '/_cache/entries?pattern=/*&confirm=yes', 'confirm', 'every cached response'],
        ['delete', '/_cache/entries?pattern=/?*', 'confirm', 'every cached response'],
        ['delete', '/_cache/entries?pattern=/[!-~]*', 'confirm', 'every cached response'],
        ['delete', `/_cache/entries?pattern=/${'a'.repeat(600)}`, 'pattern', 'longer than 512'],
        ['delete', '/_cache/entries?pattern=/api/*&confirm=yes', 'confirm', 'can only be `all`'],
        ['get', '/_cache/stats?verbose=1', 'verbose', 'unknown parameter'],
      ];
      for (const [method, path, parameter, says] of refusals) {
        it(`answers 400 naming \`${parameter}\` for ${method.toUpperCase()} ${path}`, async () => {
          const cache = makeCache();
          const admin = createAdminApp({ cache, express });
          await admin.cached('/api/items/1');
          const response = await admin.admin(method, path, 400);
          expect(response.body.parameter).to.equal(parameter);
          expect(response.body.error).to.include(says);
          expect(await cache.inspector.tagMembers('items'))
            .to.have.property('keys')
            .with.lengthOf(1);
        });
      }

      it('answers 400 for a cursor it did not give, and for a relative URL whose origin it cannot use', async () => {
        const admin = createAdminApp({ cache: makeCache(), express });
        const cursor = await admin.admin('get', '/_cache/tags/items?cursor=forged', 400);
        expect(cursor.body.error).to.include('`cursor`');
        const origin = await admin.admin('get', '/_cache/entry?url=/a&origin=shop.example', 400);
        expect(origin.body.error).to.include('`origin` must be a scheme and host');
      });

      it('purges with `/*` once confirmed with `confirm=all`', async () => {
        const cache = makeCache();
        const admin = createAdminApp({ cache, express });
        await admin.cached('/api/items/1');
        const response = await admin.admin('delete', '/_cache/entries?pattern=/*&confirm=all', 200);
        expect(response.body).to.deep.equal({ purged: 1 });
      });
    });

    describe('when the store cannot answer', () => {
      it('answers 503 with a JSON error and no detail of the cause, and logs the failed purge', async () => {
        const store = new ChaosStore();
        const logs = new RecordingLogger('warn');
        const cache = makeCache({ store, logger: logs.logger, invalidationAttempts: 1 });
        const admin = createAdminApp({ cache, express });
        await admin.cached('/api/items/1');
        store.alwaysThrow(new Error('connect ECONNREFUSED 10.0.0.7:6379'));
        for (const [method, path] of [
          ['get', '/_cache/entry?url=/api/items/1'],
          ['get', '/_cache/tags/items'],
          ['delete', '/_cache/tags/items'],
          ['delete', '/_cache/entry?url=/api/items/1'],
          ['delete', '/_cache/entries?pattern=/api/*'],
        ] as const) {
          const response = await admin.admin(method, path, 503);
          expect(response.body.error, path).to.equal('the cache store could not be reached: try again');
          expect(JSON.stringify(response.body)).to.not.include('10.0.0.7');
        }
        const failed = logs.withMessage('cache purge failed');
        expect(failed.map((entry) => entry.kind)).to.deep.equal(['tag', 'entry', 'pattern']);
        expect(failed[0]).to.include({ level: 'error', actor: 'ops@example', target: 'items' });
        expect(logs.withMessage('cache purge')).to.deep.equal([]);
      });

      it('answers 501 when the store cannot list keys', async () => {
        const cache = makeCache({ store: withoutInspection(new MemoryStore()) });
        const response = await createAdminApp({ cache, express }).admin('get', '/_cache/tags/items', 501);
        expect(response.body.code).to.equal('E_UNSUPPORTED');
      });
    });

    it('answers the stats of the cache and the size of its memory tier', async () => {
      const cache = makeCache({ memoryTier: { maxEntries: 100, maxBytes: 100_000, ttlMs: 10_000 } });
      const admin = createAdminApp({ cache, express });
      const agent = await admin.request();
      await agent.get('/api/items/1').expect(200);
      await agent.get('/api/items/1').expect(200);
      const { body } = await admin.admin('get', '/_cache/stats', 200);
      expect(body.cache).to.equal('test');
      expect(body.stats).to.include({ hits: 1, misses: 1, memoryEntries: 1 });
      expect(body.memoryTier).to.include({ entries: 1, maxEntries: 100, maxBytes: 100_000, ttlMs: 10_000 });
      const without = createAdminApp({ cache: makeCache(), express });
      expect((await without.admin('get', '/_cache/stats', 200)).body.memoryTier).to.equal(null);
    });

    it('takes the origin of a relative URL from `origin`, from the option, or from the admin request', async () => {
      const cache = makeCache();
      const admin = createAdminApp({ cache, express });
      await admin.cached('/api/items/1');
      const own = await admin.admin('get', '/_cache/entry?url=/api/items/1', 200);
      expect(own.body.cached).to.equal(true);
      const other = await admin.admin(
        'get',
        '/_cache/entry?url=/api/items/1&origin=https://other.example',
        200,
      );
      expect(other.body).to.include({
        cached: false,
        kind: 'absent',
        url: 'https://other.example/api/items/1',
      });
      expect(other.body.key).to.equal(responseCacheKey('https://other.example/api/items/1'));
    });
  });
}

describe('cacheAdmin (admin router): edges', () => {
  it('names the purger by req.ip without an `actor`, and "unknown" when `actor` names nobody', async () => {
    for (const [actor, expected] of [
      ['default', /^(::ffff:)?127\.0\.0\.1$/],
      [() => undefined, /^unknown$/],
    ] as const) {
      const logs = new RecordingLogger('warn');
      const cache = makeCache({ logger: logs.logger });
      const admin = createAdminApp({ cache, actor });
      await admin.admin('delete', '/_cache/tags/items', 200);
      expect(String(logs.withMessage('cache purge')[0]?.actor)).to.match(expected);
    }
  });

  it('reports an entry it cannot read as undecodable, and purges it by its custom `key`', async () => {
    const cache = makeCache();
    const origin = 'https://shop.example';
    await cache.set(responseCacheKey({ key: 'catalog:v2', origin }), { not: 'a response' });
    const admin = createAdminApp({ cache });
    const query = `key=catalog:v2&origin=${origin}`;
    const { body } = await admin.admin('get', `/_cache/entry?${query}`, 200);
    expect(body).to.include({ cached: false, kind: 'undecodable', url: 'catalog:v2' });
    expect(body.error).to.be.a('string');
    expect((await admin.admin('delete', `/_cache/entry?${query}`, 200)).body.purged).to.equal(1);
  });

  it('cannot list the variants of a URL whose key is hashed, and says the list may be incomplete', async () => {
    const cache = makeCache();
    const admin = createAdminApp({ cache });
    const path = `/api/lang?q=${'x'.repeat(600)}`;
    await (await admin.request()).get(path).set('Accept-Language', 'fr').expect(200);
    const { body } = await admin.admin('get', `/_cache/entry?url=${encodeURIComponent(path)}`, 200);
    expect(body).to.include({ kind: 'variants', cached: false, variantsComplete: false });
    const french = await admin.admin(
      'get',
      `/_cache/entry?url=${encodeURIComponent(path)}&header=accept-language:fr`,
      200,
    );
    expect(french.body.cached).to.equal(true);
  });

  it('passes errors that are neither bad input nor an unreachable store to next(err)', async () => {
    const cache = makeCache();
    const broken = new Proxy(cache, {
      get(target, property) {
        if (property === 'stats')
          return () => {
            throw new Error('stats exploded');
          };
        if (property === 'invalidateTags')
          return () => Promise.reject(new CacheError('E_INVALID_KEY', 'odd'));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const admin = createAdminApp({ cache: broken });
    expect((await admin.admin('get', '/_cache/stats', 500)).body).to.deep.equal({ error: 'internal error' });
    await admin.admin('delete', '/_cache/tags/items', 500);
    expect(admin.errors.map(String)).to.deep.equal(['Error: stats exploded', 'CacheError: odd']);
  });
});

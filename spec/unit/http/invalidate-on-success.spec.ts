import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import request from 'supertest';
import { createCache, invalidateOnSuccess, responseCache, responseCacheKey } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';
import { appWithTaggedItems, createTestCache, getFrom, xCacheOf } from './http-spec-helpers.js';

describe('invalidateOnSuccess', () => {
  afterEach(() => sinon.restore());

  it('invalidates the tags of a successful mutation before its response goes out', async () => {
    const { cache } = createTestCache();
    const fixture = await appWithTaggedItems(cache);
    await request(await served(fixture.app))
      .put('/api/items/1')
      .expect(200);
    // Read-your-writes: the very next read, right after the response, is fresh.
    expect(await xCacheOf(fixture.app, '/api/items/1')).to.equal('MISS');
    expect(await xCacheOf(fixture.app, '/api/items/2')).to.equal('HIT');
  });

  it('invalidates nothing when the mutation fails', async () => {
    const { cache } = createTestCache();
    const invalidateTags = sinon.spy(cache, 'invalidateTags');
    const fixture = createFixtureApp({ cache, routeOptions: { item: { tags: ['item:1'] } } });
    await getFrom(fixture.app, '/api/items/1');
    await request(await served(fixture.app))
      .put('/api/items/1?fail')
      .expect(422);
    expect(invalidateTags.called).to.equal(false);
    expect(await xCacheOf(fixture.app, '/api/items/1')).to.equal('HIT');
  });

  it('invalidates request keys', async () => {
    const { cache } = createTestCache();
    const app = express();
    let version = 1;
    app.get('/profile', responseCache(cache), (_req, res) => {
      res.json({ version });
    });
    app.post(
      '/profile',
      invalidateOnSuccess(cache, { keys: (req) => [responseCacheKey({ url: '/profile', origin: req })] }),
      (_req, res) => {
        version++;
        res.status(201).json({ version });
      },
    );
    await getFrom(app, '/profile');
    await request(await served(app))
      .post('/profile')
      .expect(201);
    expect((await getFrom(app, '/profile')).body).to.deep.equal({ version: 2 });
  });

  it('invalidates by request key in a handler, as the DELETE fixture does', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/items/3');
    await request(await served(fixture.app))
      .delete('/api/items/3')
      .expect(204);
    expect(await xCacheOf(fixture.app, '/api/items/3')).to.equal('MISS');
  });

  it('reports a failed invalidation to onError and still sends the handler’s response', async () => {
    const { cache } = createTestCache();
    const failure = new Error('redis down');
    sinon.stub(cache, 'invalidateTags').rejects(failure);
    const onError = sinon.spy();
    const app = express();
    app.put('/things/:id', invalidateOnSuccess(cache, { tags: ['things'], onError }), (_req, res) => {
      res.json({ saved: true });
    });
    const response = await request(await served(app)).put('/things/1');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ saved: true });
    expect(onError.calledOnce).to.equal(true);
    expect(onError.firstCall.args[0]).to.equal(failure);
  });

  it('sends the response even without onError, and when onError itself throws', async () => {
    const { cache } = createTestCache();
    sinon.stub(cache, 'invalidate').rejects(new Error('redis down'));
    const app = express();
    app.put('/a', invalidateOnSuccess(cache, { keys: ['k'] }), (_req, res) => res.send('a'));
    app.put(
      '/b',
      invalidateOnSuccess(cache, {
        keys: () => ['k'],
        onError: () => {
          throw new Error('bug in onError');
        },
      }),
      (_req, res) => res.send('b'),
    );
    expect((await request(await served(app)).put('/a')).text).to.equal('a');
    expect((await request(await served(app)).put('/b')).text).to.equal('b');
  });

  it('with queueOnFailure, counts an invalidation queued for replay as done; one that could not be queued still goes to onError', async () => {
    const store = new ChaosStore().alwaysThrow(new Error('ECONNREFUSED'));
    const cache = createCache({
      store,
      registry: false,
      logger: silentLogger,
      invalidationAttempts: 1,
      invalidationQueue: { maxSize: 1, replayIntervalMs: 60_000 },
    });
    const errors: Record<string, string[]> = { queued: [], full: [], plain: [] };
    const app = express();
    for (const [path, options] of [
      ['queued', { tags: ['a'], queueOnFailure: true }],
      ['full', { keys: ['b'], queueOnFailure: true }],
      ['plain', { tags: ['a'] }],
    ] as const) {
      app.put(
        `/${path}`,
        invalidateOnSuccess(cache, {
          ...options,
          onError: (error) => errors[path]?.push((error as Error).message),
        }),
        (_req, res) => res.send(path),
      );
    }
    for (const path of ['queued', 'full', 'plain']) {
      expect(
        (
          await request(await served(app))
            .put(`/${path}`)
            .expect(200)
        ).text,
      ).to.equal(path);
    }
    expect(errors.queued).to.deep.equal([]);
    expect(errors.full)
      .to.have.length(1)
      .and.to.match(/not queued: the invalidation queue is full/);
    expect(errors.plain)
      .to.have.length(1)
      .and.to.match(/queued: it will be replayed/);
    await cache.close();
  });

  it('rejects options without anything to invalidate, and invalid lists', () => {
    const { cache } = createTestCache();
    expect(() => invalidateOnSuccess(cache, {})).to.throw(TypeError, /`tags`, `keys`/);
    expect(() => invalidateOnSuccess(cache, { tags: [''] })).to.throw(TypeError, /`tags`/);
    expect(() => invalidateOnSuccess(cache, { keys: 'k' as never })).to.throw(TypeError, /`keys`/);
    expect(() => invalidateOnSuccess(cache, { tags: ['a'], onError: 1 as never })).to.throw(
      TypeError,
      /`onError`/,
    );
    expect(() => invalidateOnSuccess(cache, { tags: ['a'], queueOnFailure: 'yes' as never })).to.throw(
      TypeError,
      /`queueOnFailure` must be a boolean/,
    );
  });
});

// Type tests of the HTTP API: every `@ts-expect-error` line must fail to compile (`tsc --noEmit`
// fails if one compiles), and each call is also run to show what a JavaScript caller would get.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { invalidateOnSuccess, type ResponseCacheOptions, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

describe('public HTTP API types', () => {
  it('keeps the handler’s route parameters typed from the path after the middleware', async () => {
    const { cache } = createTestCache();
    const app = express();
    app.get('/items/:id', responseCache(cache), (req, res) => {
      const id: string = req.params.id;
      res.send(id.toUpperCase());
    });
    app.put('/items/:id', invalidateOnSuccess(cache, { tags: ['items'] }), (req, res) => {
      const id: string = req.params.id;
      res.send(id);
    });
    expect((await request(await served(app)).get('/items/ab')).text).to.equal('AB');
    expect((await request(await served(app)).put('/items/ab')).text).to.equal('ab');
  });

  it('types option functions with the route parameters given', async () => {
    const { cache } = createTestCache();
    const app = express();
    const options: ResponseCacheOptions<{ slug: string }> = {
      tags: (req) => [req.params.slug.toLowerCase()],
      ttl: (_req, res) => (res.statusCode === 200 ? 60 : undefined),
    };
    app.get('/posts/:slug', responseCache(cache, options), (req, res) => res.send(req.params.slug));
    await request(await served(app)).get('/posts/Hello');
    expect(await cache.invalidateTags(['hello'])).to.equal(1);
  });

  it('rejects options of the wrong type', () => {
    const { cache } = createTestCache();
    // @ts-expect-error ttl is seconds, not a string
    expect(() => responseCache(cache, { ttl: '60' })).to.throw(TypeError, /`ttl`/);
    // @ts-expect-error tags are strings
    expect(() => responseCache(cache, { tags: [1] })).to.throw(TypeError, /`tags`/);
    // @ts-expect-error statuses are numbers
    expect(() => responseCache(cache, { statuses: ['200'] })).to.throw(TypeError, /`statuses`/);
    // @ts-expect-error surrogate headers are stripped or kept
    expect(() => responseCache(cache, { surrogateHeaders: true })).to.throw(TypeError, /`surrogateHeaders`/);
    // @ts-expect-error invalidateOnSuccess needs something to invalidate
    expect(() => invalidateOnSuccess(cache)).to.throw(TypeError, /options must be an object/);
  });

  it('rejects misspelled options instead of ignoring them', () => {
    const { cache } = createTestCache();
    // @ts-expect-error there is no `maxAge` option (it is `ttl`)
    expect(() => responseCache(cache, { maxAge: 60 })).to.throw(TypeError, /unknown option `maxAge`/);
  });
});

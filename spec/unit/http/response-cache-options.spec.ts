import { expect } from 'chai';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import request from 'supertest';
import {
  DEFAULT_MAX_BODY_BYTES,
  resolveResponseCacheOptions,
} from '../../../src/http/response-cache-options.js';
import { CacheOptionError, type ResponseCacheOptions, responseCache } from '../../../src/index.js';
import { served } from '../../support/served.js';

describe('responseCache options', () => {
  it('defaults to 200 only, 1 MiB bodies, no vary headers, no credentials', () => {
    const config = resolveResponseCacheOptions({});
    expect([...config.storage.statuses]).to.deep.equal([200]);
    expect(config.storage.maxBodyBytes).to.equal(DEFAULT_MAX_BODY_BYTES).and.to.equal(1_048_576);
    expect(config.varyHeaders).to.deep.equal([]);
    expect(config.credentials).to.deep.equal({ keysAuthorization: false, keysCookie: false });
    expect(config.ttl).to.equal(undefined);
    expect(config.staleTtlSeconds).to.equal(undefined);
    expect(config.ttlFromCacheControl).to.equal(false);
    expect(config.surrogateHeaders).to.equal('strip');
    expect(resolveResponseCacheOptions({ surrogateHeaders: 'keep' }).surrogateHeaders).to.equal('keep');
    expect(config.enabled).to.equal(true);
  });

  it('normalises varyHeaders and derives which credentials are keyed', () => {
    const config = resolveResponseCacheOptions({ varyHeaders: ['X-Tenant', 'Authorization', 'x-tenant'] });
    expect(config.varyHeaders).to.deep.equal(['authorization', 'x-tenant']);
    expect(config.credentials).to.deep.equal({ keysAuthorization: true, keysCookie: false });
    const withCredentialKey = resolveResponseCacheOptions({ credentialKey: () => 'u' });
    expect(withCredentialKey.credentials).to.deep.equal({ keysAuthorization: true, keysCookie: true });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['options', null, /options must be an object/],
    ['an unknown option', { maxAge: 1 }, /unknown option `maxAge` \(known: ttl, /],
    ['a misspelt option', { TTL: 1 }, /unknown option `TTL`: did you mean `ttl`\?/],
    ['a misspelt option', { varyHeader: ['accept'] }, /did you mean `varyHeaders`\?/],
    ['ttl', { ttl: -1 }, /`ttl`/],
    ['ttl', { ttl: '60' }, /`ttl` must be a number of at least 0, got the string "60"/],
    ['staleTtl', { staleTtl: Number.NaN }, /`staleTtl`/],
    ['ttlFromCacheControl', { ttlFromCacheControl: 'yes' }, /`ttlFromCacheControl`/],
    ['tags', { tags: 'items' }, /`tags`/],
    ['tags', { tags: [''] }, /`tags`/],
    ['statuses', { statuses: [] }, /`statuses`/],
    ['statuses', { statuses: [700] }, /`statuses`/],
    ['statuses', { statuses: [206] }, /`statuses` cannot include 206/],
    ['statuses', { statuses: [304] }, /`statuses` cannot include 304/],
    ['maxBodyBytes', { maxBodyBytes: 1.5 }, /`maxBodyBytes`/],
    ['key', { key: 'path' }, /`key`/],
    ['varyHeaders', { varyHeaders: 'accept' }, /`varyHeaders`/],
    ['varyHeaders', { varyHeaders: ['bad header'] }, /`varyHeaders`/],
    ['credentialKey', { credentialKey: true }, /`credentialKey`/],
    ['surrogateHeaders', { surrogateHeaders: 'remove' }, /`surrogateHeaders` must be 'strip' or 'keep'/],
    [
      'enabled',
      { enabled: 'yes' },
      /`enabled` must be a boolean or a function of the request returning one, got the string "yes"/,
    ],
    ['enabled', { enabled: null }, /`enabled` must be a boolean or a function .*, got null/],
  ];
  for (const [name, options, message] of invalid) {
    it(`rejects an invalid ${name}: ${JSON.stringify(options)}`, () => {
      expect(() => resolveResponseCacheOptions(options as ResponseCacheOptions))
        .to.throw(TypeError, message)
        .with.property('code', 'E_INVALID_OPTION');
      expect(() => resolveResponseCacheOptions(options as ResponseCacheOptions)).to.throw(CacheOptionError);
    });
  }

  it('answers every request with an error saying to call it when mounted as app.use(responseCache)', async () => {
    const app = express();
    app.use(responseCache as unknown as RequestHandler);
    app.get('/x', (_req, res) => res.send('never'));
    const errors: unknown[] = [];
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).end();
    });
    await request(await served(app))
      .get('/x')
      .expect(500);
    expect(String(errors[0])).to.include(
      'write app.use(responseCache(cache, options)), not app.use(responseCache)',
    );
  });

  it('accepts functions for ttl and tags, and 0 as a ttl and as a body limit', () => {
    const ttl = () => 5;
    const tags = () => ['a'];
    const config = resolveResponseCacheOptions({ ttl, tags, maxBodyBytes: 0 });
    expect(config.ttl).to.equal(ttl);
    expect(config.tags).to.equal(tags);
    expect(resolveResponseCacheOptions({ ttl: 0 }).ttl).to.equal(0);
  });
});

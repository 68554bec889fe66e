import { expect } from 'chai';
import fc from 'fast-check';
import { buildCacheKey, targetKeyPattern } from '../../../src/http/build-cache-key.js';
import { parseCacheKey } from '../../../src/http/parse-cache-key.js';
import type { RequestOrigin } from '../../../src/http/request-origin.js';
import { compileGlob } from '../../../src/keys/glob-match.js';

const SHOP: RequestOrigin = { scheme: 'https', authority: 'shop.example' };

describe('parseCacheKey', () => {
  it('reads back the origin, the target and the URL of a plain key', () => {
    const key = buildCacheKey(
      { scheme: 'http', authority: '127.0.0.1:8080' },
      '/api/items/1?a=1',
      [],
      {},
      undefined,
    );
    expect(parseCacheKey(key)).to.deep.equal({
      origin: 'http://127.0.0.1:8080',
      target: '/api/items/1?a=1',
      url: 'http://127.0.0.1:8080/api/items/1?a=1',
      headers: {},
      resource: 'http://127.0.0.1%3A8080:/api/items/1?a=1',
    });
  });

  it('reads back the varied headers, absent ones as null and credentials as their hash', () => {
    const key = buildCacheKey(
      SHOP,
      '/p',
      ['accept-language', 'authorization', 'x-tenant'],
      { 'accept-language': 'fr;q=1, de:x', authorization: 'Bearer s3cret' },
      'user 7',
    );
    const parsed = parseCacheKey(key);
    expect(parsed?.headers['accept-language']).to.equal('fr;q=1, de:x');
    expect(parsed?.headers['x-tenant']).to.equal(null);
    expect(parsed?.headers.authorization).to.match(/^#[\w-]{43}$/);
    expect(parsed?.credential).to.equal('user 7');
    expect(parsed?.resource).to.equal(parseCacheKey(buildCacheKey(SHOP, '/p', [], {}, undefined))?.resource);
  });

  it('reads back the Host of a key whose authority came from a trusted X-Forwarded-Host', () => {
    const key = buildCacheKey({ ...SHOP, host: 'internal:3000' }, '/p', [], {}, undefined);
    expect(parseCacheKey(key)).to.include({
      origin: 'https://shop.example',
      host: 'internal:3000',
      target: '/p',
    });
  });

  it('keeps a target that is not a path (absolute form) as the URL itself', () => {
    const key = buildCacheKey(SHOP, 'http://evil.example/a', [], {}, undefined);
    expect(parseCacheKey(key)).to.include({ target: 'http://evil.example/a', url: 'http://evil.example/a' });
  });

  it('answers undefined for hashed keys and for keys it did not make', () => {
    const hashed = buildCacheKey(SHOP, `/search?q=${'x'.repeat(600)}`, [], {}, undefined);
    for (const key of [
      hashed,
      'user:1',
      'rc2:GET',
      'rc2:GETx:https://a:/p',
      'rc2:GET:https//a:/p',
      'rc2:GET;%zz:https://a:/p',
    ]) {
      expect(parseCacheKey(key), key).to.equal(undefined);
    }
  });

  it('reads back whatever buildCacheKey made (property)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'é', ':', ';', '/', '?', '=', '%', '#', '@', ' ', ','),
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.record({ scheme: fc.constantFrom('http', 'https'), authority: text }),
        text.map((path) => `/${path}`),
        fc.dictionary(
          fc.constantFrom('accept', 'x-tenant', 'accept-language'),
          fc.option(text, { nil: undefined }),
        ),
        fc.option(
          text.filter((credential) => credential !== ''),
          { nil: undefined },
        ),
        (origin, target, headers, credential) => {
          const names = Object.keys(headers).sort();
          const parsed = parseCacheKey(buildCacheKey(origin, target, names, headers, credential));
          expect(parsed).to.not.equal(undefined);
          expect(parsed?.origin).to.equal(`${origin.scheme}://${origin.authority}`);
          expect(parsed?.target).to.equal(target);
          expect(parsed?.credential).to.equal(credential);
          expect(parsed?.headers).to.deep.equal(
            Object.fromEntries(names.map((name) => [name, headers[name] ?? null])),
          );
        },
      ),
      { numRuns: 300, seed: 20261212 },
    );
  });
});

describe('targetKeyPattern', () => {
  const matches = (glob: string, key: string) => compileGlob(targetKeyPattern(glob)).test(key);

  it('matches the keys of matching URLs at every origin, in every variant, and no others', () => {
    const item = (origin: RequestOrigin, names: string[] = []) =>
      buildCacheKey(origin, '/api/items/1?a=1', names, { accept: 'text/html' }, undefined);
    expect(matches('/api/items/*', item(SHOP))).to.equal(true);
    expect(matches('/api/items/*', item({ scheme: 'http', authority: '127.0.0.1:80' }, ['accept']))).to.equal(
      true,
    );
    expect(matches('/api/items/*', buildCacheKey(SHOP, '/api/users/1', [], {}, undefined))).to.equal(false);
    expect(matches('/api/items/*', 'api/items/1')).to.equal(false);
    expect(matches('/api/items/?', item(SHOP))).to.equal(false);
  });
});

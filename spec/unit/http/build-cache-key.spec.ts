import { expect } from 'chai';
import fc from 'fast-check';
import { buildCacheKey } from '../../../src/http/build-cache-key.js';
import type { RequestOrigin } from '../../../src/http/request-origin.js';
import { normalizeTarget } from '../../../src/http/request-target.js';
import { responseCacheKey } from '../../../src/index.js';

const SHOP: RequestOrigin = { scheme: 'https', authority: 'shop.example' };

describe('buildCacheKey', () => {
  it('is readable and versioned for plain requests', () => {
    expect(buildCacheKey(SHOP, '/api/items/1?a=1', [], {}, undefined)).to.equal(
      'rc2:GET:https://shop.example:/api/items/1?a=1',
    );
  });

  it('puts the values of the varied headers before the target, percent-encoded', () => {
    const key = buildCacheKey(
      SHOP,
      '/p',
      ['accept-language', 'x-tenant'],
      { 'accept-language': 'fr;q=1, de:x' },
      undefined,
    );
    expect(key).to.equal('rc2:GET;accept-language=fr%3Bq%3D1%2C%20de%3Ax;x-tenant:https://shop.example:/p');
  });

  it('tells an absent header from an empty one', () => {
    const absent = buildCacheKey(SHOP, '/p', ['x-tenant'], {}, undefined);
    const empty = buildCacheKey(SHOP, '/p', ['x-tenant'], { 'x-tenant': '' }, undefined);
    expect(absent).not.to.equal(empty);
  });

  it('keeps credentials out of the key in clear', () => {
    const key = buildCacheKey(
      SHOP,
      '/me',
      ['authorization', 'cookie'],
      { authorization: 'Bearer s3cret', cookie: 'sid=abc' },
      undefined,
    );
    expect(key).not.to.include('s3cret');
    expect(key).not.to.include('abc');
    expect(key).to.match(/^rc2:GET;authorization=#[\w-]{43};cookie=#[\w-]{43}:https:\/\/shop\.example:\/me$/);
  });

  it('adds the credential partition', () => {
    expect(buildCacheKey(SHOP, '/me', [], {}, 'user 7')).to.equal(
      'rc2:GET;@=user%207:https://shop.example:/me',
    );
  });

  it('hashes long keys behind a readable, versioned prefix', () => {
    const target = `/search?q=${'x'.repeat(600)}`;
    const key = buildCacheKey(SHOP, target, [], {}, undefined);
    expect(key).to.match(/^rc2:GET#[\w-]{43}:\/search\?q=x+$/);
    expect(key.length).to.be.lessThan(130);
    expect(buildCacheKey(SHOP, `${target}y`, [], {}, undefined)).not.to.equal(key);
  });

  it('keeps the origin in the key, so hosts and schemes never share an entry', () => {
    const keys = [
      SHOP,
      { scheme: 'http', authority: 'shop.example' },
      { scheme: 'https', authority: 'evil.example' },
      { scheme: 'https', authority: 'shop.example:8443' },
    ].map((origin) => buildCacheKey(origin, '/p', [], {}, undefined));
    expect(new Set(keys).size).to.equal(4);
    expect(keys[3]).to.equal('rc2:GET:https://shop.example%3A8443:/p');
  });

  it('never lets a forged authority end where another target begins', () => {
    const forged = buildCacheKey(
      { scheme: 'https', authority: 'shop.example/api' },
      '/items',
      [],
      {},
      undefined,
    );
    const genuine = buildCacheKey(SHOP, '/api/items', [], {}, undefined);
    expect(forged).not.to.equal(genuine);
    const forgedScheme = buildCacheKey(
      { scheme: 'https:', authority: '/shop.example' },
      '/p',
      [],
      {},
      undefined,
    );
    expect(forgedScheme).not.to.equal(buildCacheKey(SHOP, '/p', [], {}, undefined));
  });

  it('never lets a target forge the header part', () => {
    const forged = buildCacheKey(SHOP, ';x-tenant=a:/p', [], {}, undefined);
    const genuine = buildCacheKey(SHOP, '/p', ['x-tenant'], { 'x-tenant': 'a' }, undefined);
    expect(forged).not.to.equal(genuine);
  });
});

describe('normalizeTarget', () => {
  // Each target as sent, and the target the key holds.
  const normalized: Record<string, string> = {
    '/a': '/a',
    '/a?': '/a',
    '/a?b=2&a=1': '/a?a=1&b=2',
    '/a?a=2&b=1&a=1': '/a?a=2&a=1&b=1',
    '/a?flag&a=1': '/a?a=1&flag',
    '/a?x=1': '/a?x=1',
    // A fragment, which no browser sends, keeps the target exactly as sent (the handler can read it).
    '/a?b=1#frag&a=2': '/a?b=1#frag&a=2',
    '/a#?b=1': '/a#?b=1',
    'http://evil.example/a?b=1&a=2': 'http://evil.example/a?b=1&a=2',
    '/a?%62=1&a=2': '/a?a=2&%62=1',
    '/a?b[x]=1&a=2&b[y]=3': '/a?a=2&b[x]=1&b[y]=3',
  };
  for (const [input, expected] of Object.entries(normalized)) {
    it(`turns ${input} into ${expected}`, () => expect(normalizeTarget(input)).to.equal(expected));
  }
});

describe('responseCacheKey', () => {
  it('names the key a plain GET is stored under, whatever the query order', () => {
    expect(responseCacheKey('https://shop.example/api/items/1?b=2&a=1')).to.equal(
      'rc2:GET:https://shop.example:/api/items/1?a=1&b=2',
    );
    expect(responseCacheKey({ url: '/api/items/1?b=2&a=1', origin: 'https://shop.example' })).to.equal(
      'rc2:GET:https://shop.example:/api/items/1?a=1&b=2',
    );
    expect(responseCacheKey('http://shop.example:8080')).to.equal('rc2:GET:http://shop.example%3A8080:/');
  });

  it('names keys of routes with a custom key, varyHeaders and a credential', () => {
    expect(responseCacheKey({ key: 'item:1', origin: 'https://shop.example' })).to.equal(
      'rc2:GET:https://shop.example:item:1',
    );
    expect(
      responseCacheKey({
        url: 'https://shop.example/p',
        headers: { 'X-Tenant': 'a' },
        credential: 'u1',
      }),
    ).to.equal('rc2:GET;x-tenant=a;@=u1:https://shop.example:/p');
  });

  it('asks for exactly one of url and key, and for the origin', () => {
    expect(() => responseCacheKey({})).to.throw(TypeError);
    expect(() => responseCacheKey({ url: '/a', key: 'b' })).to.throw(TypeError);
    expect(() => responseCacheKey('')).to.throw(TypeError);
    expect(() => responseCacheKey('/api/items/1')).to.throw(TypeError, /origin/);
    expect(() => responseCacheKey({ key: 'k' })).to.throw(TypeError, /origin/);
    expect(() => responseCacheKey({ url: '/a', origin: 'shop.example' })).to.throw(TypeError, /origin/);
  });
});

/** The parts of a request the key is made of, as the property below generates them. */
interface KeyedRequest {
  path: string;
  query: [string, string][];
  headers: Record<string, string | undefined>;
  credential: string | undefined;
}

const VARIED = ['accept-language', 'x-tenant', 'cookie'];
const text = fc.string({
  unit: fc.constantFrom('a', 'b', '%', '&', '=', ';', ':', '#', '@', ' ', 'é', '/'),
  maxLength: 6,
});
const keyedRequest: fc.Arbitrary<KeyedRequest> = fc.record({
  path: fc.string({ unit: fc.constantFrom('a', 'b', '/', ';', ':', '%'), maxLength: 8 }).map((p) => `/${p}`),
  query: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2', '')), { maxLength: 4 }),
  headers: fc.record(Object.fromEntries(VARIED.map((name) => [name, fc.option(text, { nil: undefined })])), {
    requiredKeys: [],
  }) as fc.Arbitrary<Record<string, string | undefined>>,
  credential: fc.option(text, { nil: undefined }),
});

function keyOf(request: KeyedRequest): string {
  const query = request.query.map(([name, value]) => `${name}=${value}`).join('&');
  const url = query === '' ? request.path : `${request.path}?${query}`;
  return buildCacheKey(SHOP, normalizeTarget(url), VARIED, request.headers, request.credential);
}

/** What the key must tell apart: per-name value order matters, the order across names does not. */
function meaning(request: KeyedRequest): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of request.query) byName.set(name, [...(byName.get(name) ?? []), value]);
  return JSON.stringify({
    path: request.path,
    query: [...byName.entries()].sort(([left], [right]) => (left < right ? -1 : 1)),
    headers: VARIED.map((name) => request.headers[name] ?? null),
    credential: request.credential ?? null,
  });
}

describe('cache keys (property)', () => {
  it('share an entry exactly when two requests agree on every keyed part', () => {
    fc.assert(
      fc.property(keyedRequest, keyedRequest, (left, right) => {
        expect(keyOf(left) === keyOf(right)).to.equal(meaning(left) === meaning(right));
      }),
      { numRuns: 2000 },
    );
  });

  it('share an entry for any reordering of parameters with different names', () => {
    const nameOrder = fc.shuffledSubarray(['a', 'b', 'c'], { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(keyedRequest, nameOrder, (request, order) => {
        // A stable sort by another name order: values of one name keep their order.
        const reordered = [...request.query].sort(
          ([left], [right]) => order.indexOf(left) - order.indexOf(right),
        );
        expect(keyOf({ ...request, query: reordered })).to.equal(keyOf(request));
      }),
      { numRuns: 500 },
    );
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { buildCacheKey, normalizeTarget } from '../../../src/http/build-cache-key.js';
import { responseCacheKey } from '../../../src/index.js';

describe('buildCacheKey', () => {
  it('is readable and versioned for plain requests', () => {
    expect(buildCacheKey('/api/items/1?a=1', [], {}, undefined)).to.equal('rc1:GET:/api/items/1?a=1');
  });

  it('puts the values of the varied headers before the target, percent-encoded', () => {
    const key = buildCacheKey(
      '/p',
      ['accept-language', 'x-tenant'],
      { 'accept-language': 'fr;q=1, de:x' },
      undefined,
    );
    expect(key).to.equal('rc1:GET;accept-language=fr%3Bq%3D1%2C%20de%3Ax;x-tenant:/p');
  });

  it('tells an absent header from an empty one', () => {
    const absent = buildCacheKey('/p', ['x-tenant'], {}, undefined);
    const empty = buildCacheKey('/p', ['x-tenant'], { 'x-tenant': '' }, undefined);
    expect(absent).not.to.equal(empty);
  });

  it('keeps credentials out of the key in clear', () => {
    const key = buildCacheKey(
      '/me',
      ['authorization', 'cookie'],
      { authorization: 'Bearer s3cret', cookie: 'sid=abc' },
      undefined,
    );
    expect(key).not.to.include('s3cret');
    expect(key).not.to.include('abc');
    expect(key).to.match(/^rc1:GET;authorization=#[\w-]{43};cookie=#[\w-]{43}:\/me$/);
  });

  it('adds the credential partition', () => {
    expect(buildCacheKey('/me', [], {}, 'user 7')).to.equal('rc1:GET;@=user%207:/me');
  });

  it('hashes long keys behind a readable, versioned prefix', () => {
    const target = `/search?q=${'x'.repeat(600)}`;
    const key = buildCacheKey(target, [], {}, undefined);
    expect(key).to.match(/^rc1:GET#[\w-]{43}:\/search\?q=x+$/);
    expect(key.length).to.be.lessThan(130);
    expect(buildCacheKey(`${target}y`, [], {}, undefined)).not.to.equal(key);
  });

  it('never lets a target forge the header part', () => {
    const forged = buildCacheKey(';x-tenant=a:/p', [], {}, undefined);
    const genuine = buildCacheKey('/p', ['x-tenant'], { 'x-tenant': 'a' }, undefined);
    expect(forged).not.to.equal(genuine);
  });
});

describe('normalizeTarget', () => {
  const cases: [string, string][] = [
    ['/a', '/a'],
    ['/a?', '/a'],
    ['/a?b=2&a=1', '/a?a=1&b=2'],
    ['/a?a=2&b=1&a=1', '/a?a=2&a=1&b=1'],
    ['/a?flag&a=1', '/a?a=1&flag'],
    ['/a?x=1', '/a?x=1'],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${input} into ${expected}`, () => expect(normalizeTarget(input)).to.equal(expected));
  }
});

describe('responseCacheKey', () => {
  it('names the key a plain GET is stored under, whatever the query order', () => {
    expect(responseCacheKey('/api/items/1?b=2&a=1')).to.equal('rc1:GET:/api/items/1?a=1&b=2');
  });

  it('names keys of routes with a custom key, varyHeaders and a credential', () => {
    expect(responseCacheKey({ key: 'item:1' })).to.equal('rc1:GET:item:1');
    expect(responseCacheKey({ url: '/p', headers: { 'X-Tenant': 'a' }, credential: 'u1' })).to.equal(
      'rc1:GET;x-tenant=a;@=u1:/p',
    );
  });

  it('asks for exactly one of url and key', () => {
    expect(() => responseCacheKey({})).to.throw(TypeError);
    expect(() => responseCacheKey({ url: '/a', key: 'b' })).to.throw(TypeError);
    expect(() => responseCacheKey('')).to.throw(TypeError);
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
  path: fc
    .string({ unit: fc.constantFrom('a', 'b', '/', ';', ':', '%', '#'), maxLength: 8 })
    .map((p) => `/${p}`),
  query: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2', '')), { maxLength: 4 }),
  headers: fc.record(Object.fromEntries(VARIED.map((name) => [name, fc.option(text, { nil: undefined })])), {
    requiredKeys: [],
  }) as fc.Arbitrary<Record<string, string | undefined>>,
  credential: fc.option(text, { nil: undefined }),
});

function keyOf(request: KeyedRequest): string {
  const query = request.query.map(([name, value]) => `${name}=${value}`).join('&');
  const url = query === '' ? request.path : `${request.path}?${query}`;
  return buildCacheKey(normalizeTarget(url), VARIED, request.headers, request.credential);
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

import { expect } from 'chai';
import type { CachedResponse, VariantsRecord } from '../../../src/http/cached-response.js';
import { responseSerializer } from '../../../src/http/response-serializer.js';

const response: CachedResponse = {
  kind: 'response',
  status: 200,
  headers: [
    ['Content-Type', 'text/plain'],
    ['Link', ['<a>', '<b>']],
  ],
  body: Buffer.from([0, 255, 104, 105]),
  etag: 'W/"4-x"',
  route: '/r/:id',
};

// Frozen v1 payloads: if these change, stored entries are misread; a format change needs a new name.
const RESPONSE_V1 =
  '0100c800062f722f3a69640007572f22342d782200020c436f6e74656e742d54797065010000000a746578742f706c61696e' +
  '044c696e6b02000000033c613e000000033c623e00ff6869';
const VARIANTS_V1 = '0200022f76010f6163636570742d6c616e6775616765';

describe('responseSerializer', () => {
  it('writes the frozen v1 layout', () => {
    expect(responseSerializer.name).to.equal('http-response/1');
    expect(responseSerializer.serialize(response).toString('hex')).to.equal(RESPONSE_V1);
    const record: VariantsRecord = { kind: 'variants', names: ['accept-language'], route: '/v' };
    expect(responseSerializer.serialize(record).toString('hex')).to.equal(VARIANTS_V1);
  });

  it('reads v1 responses back, with the raw body bytes as a view of the stored bytes', () => {
    const stored = Buffer.from(RESPONSE_V1, 'hex');
    const decoded = responseSerializer.deserialize(stored) as CachedResponse;
    expect(decoded).to.deep.equal(response);
    expect(decoded.body.buffer).to.equal(stored.buffer);
  });

  it('reads v1 variant records back', () => {
    expect(responseSerializer.deserialize(Buffer.from(VARIANTS_V1, 'hex'))).to.deep.equal({
      kind: 'variants',
      names: ['accept-language'],
      route: '/v',
    });
  });

  it('round-trips every byte value, Latin-1 header text, UTF-8 routes and an absent ETag', () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
    const original: CachedResponse = {
      kind: 'response',
      status: 404,
      headers: [['X-Note', 'café ÿ']],
      body,
      etag: undefined,
      route: '/produits/:nom/é',
    };
    expect(responseSerializer.deserialize(responseSerializer.serialize(original))).to.deep.equal(original);
  });

  it('leaves runtime-only fields (ttl, tags) out', () => {
    const bytes = responseSerializer.serialize({ ...response, ttlSeconds: 5, tags: ['a'] });
    expect(bytes.toString('hex')).to.equal(RESPONSE_V1);
  });

  it('rejects truncated, foreign and padded payloads', () => {
    const stored = Buffer.from(RESPONSE_V1, 'hex');
    expect(() => responseSerializer.deserialize(stored.subarray(0, 20))).to.throw(TypeError, /truncated/);
    expect(() => responseSerializer.deserialize(Buffer.from([9]))).to.throw(TypeError, /kind 9/);
    expect(() => responseSerializer.deserialize(Buffer.alloc(0))).to.throw(TypeError);
    const padded = Buffer.concat([Buffer.from(VARIANTS_V1, 'hex'), Buffer.from([0])]);
    expect(() => responseSerializer.deserialize(padded)).to.throw(TypeError, /trailing/);
  });

  it('refuses responses that do not fit the format', () => {
    const manyValues = Array.from({ length: 256 }, (_, index) => `v${index}`);
    expect(() => responseSerializer.serialize({ ...response, headers: [['Link', manyValues]] })).to.throw(
      RangeError,
      /header value count/,
    );
    expect(() => responseSerializer.serialize({ ...response, status: 70_000 })).to.throw(
      RangeError,
      /status/,
    );
  });
});

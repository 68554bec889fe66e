import type { OutgoingHttpHeader } from 'node:http';
import { expect } from 'chai';
import {
  notStorableReason,
  parseCacheControl,
  parseVary,
  type ResponseHead,
} from '../../../src/http/response-policy.js';

function head(statusCode: number, headers: Record<string, OutgoingHttpHeader> = {}): ResponseHead {
  return { statusCode, getHeader: (name) => headers[name] };
}

describe('response policy', () => {
  const policy = { statuses: new Set([200, 404]), maxBodyBytes: 100 };

  it('stores allowed statuses without anything that forbids it', () => {
    expect(notStorableReason(head(200, { 'cache-control': 'public, max-age=60' }), policy)).to.equal(
      undefined,
    );
    expect(notStorableReason(head(404), policy)).to.equal(undefined);
  });

  const refusals: [string, ResponseHead, string][] = [
    ['a status outside the list', head(500), 'status'],
    ['206 even when listed', head(206), 'status'],
    ['Set-Cookie', head(200, { 'set-cookie': ['a=b'] }), 'set-cookie'],
    ['no-store', head(200, { 'cache-control': 'public, NO-STORE' }), 'no-store'],
    ['private', head(200, { 'cache-control': 'private' }), 'private'],
    ['qualified private', head(200, { 'cache-control': 'private="x-user", max-age=5' }), 'private'],
    ['no-cache', head(200, { 'cache-control': ['max-age=5', 'no-cache'] }), 'no-cache'],
    ['Vary: *', head(200, { vary: 'Accept, *' }), 'vary-star'],
    ['a declared length over the limit', head(200, { 'content-length': 101 }), 'too-large'],
  ];
  for (const [what, response, reason] of refusals) {
    it(`refuses ${what}`, () => {
      expect(notStorableReason(response, { ...policy, statuses: new Set([200, 206, 404]) })).to.equal(reason);
    });
  }

  it('accepts a declared length at the limit', () => {
    expect(notStorableReason(head(200, { 'content-length': '100' }), policy)).to.equal(undefined);
  });

  it('parses Cache-Control directives case-insensitively, first occurrence first', () => {
    const directives = parseCacheControl('Public, MAX-AGE="30", max-age=5, s-maxage=10,,');
    expect([...directives.entries()]).to.deep.equal([
      ['public', ''],
      ['max-age', '30'],
      ['s-maxage', '10'],
    ]);
  });

  it('reads quoted values whole, commas and escapes included (RFC 9111 §5.2)', () => {
    expect([...parseCacheControl('community="x, s-maxage=0", max-age=60, ext="a\\"b"')]).to.deep.equal([
      ['community', 'x, s-maxage=0'],
      ['max-age', '60'],
      ['ext', 'a"b'],
    ]);
  });

  it('normalises Vary into sorted, lower-case, unique names', () => {
    expect(parseVary('Accept-Encoding, accept-language,ACCEPT-ENCODING')).to.deep.equal([
      'accept-encoding',
      'accept-language',
    ]);
    expect(parseVary(['Origin', 'Accept'])).to.deep.equal(['accept', 'origin']);
    expect(parseVary(undefined)).to.deep.equal([]);
    expect(parseVary('*')).to.equal('*');
  });
});

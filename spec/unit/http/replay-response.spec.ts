import { expect } from 'chai';
import type { CachedResponse } from '../../../src/http/cached-response.js';
import { computeEntityTag, matchesIfNoneMatch } from '../../../src/http/entity-tag.js';
import { isNotModified } from '../../../src/http/replay-response.js';

function cached(overrides: Partial<CachedResponse> = {}): CachedResponse {
  return {
    kind: 'response',
    status: 200,
    headers: [['Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT']],
    body: Buffer.from('x'),
    etag: '"v1"',
    route: '/r',
    ...overrides,
  };
}

describe('entity tags', () => {
  it('computes a weak tag from the length and digest of the body', () => {
    expect(computeEntityTag(Buffer.from('hello'))).to.equal('W/"5-qvTGHdzF6KLavt4PO0gs2a6pQ00"');
    expect(computeEntityTag(Buffer.from('hellp'))).not.to.equal(computeEntityTag(Buffer.from('hello')));
  });

  // [If-None-Match, the stored ETag, whether they match]
  const ifNoneMatchCases: [string, string, boolean][] = [
    ['"v1"', '"v1"', true],
    ['W/"v1"', '"v1"', true],
    ['"v1"', 'W/"v1"', true],
    ['"a", W/"v1"', '"v1"', true],
    ['"a,b", "c"', '"a,b"', true],
    ['*', '"v1"', true],
    ['"v2"', '"v1"', false],
    ['v1', '"v1"', false],
    ['"v1', '"v1"', false],
  ];
  it('matches If-None-Match by weak comparison, in lists, and with *', () => {
    for (const [ifNoneMatch, etag, matches] of ifNoneMatchCases) {
      expect(matchesIfNoneMatch(ifNoneMatch, etag), `${ifNoneMatch} against ${etag}`).to.equal(matches);
    }
  });
});

describe('isNotModified', () => {
  it('decides by If-None-Match when it is present, ignoring If-Modified-Since', () => {
    expect(isNotModified({ 'if-none-match': '"v1"' }, cached())).to.equal(true);
    const both = { 'if-none-match': '"v2"', 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' };
    expect(isNotModified(both, cached())).to.equal(false);
    expect(isNotModified({ 'if-none-match': '*' }, cached({ etag: undefined }))).to.equal(false);
  });

  it('compares If-Modified-Since with Last-Modified', () => {
    expect(isNotModified({ 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }, cached())).to.equal(true);
    expect(isNotModified({ 'if-modified-since': 'Wed, 21 Oct 2015 07:27:59 GMT' }, cached())).to.equal(false);
    expect(isNotModified({ 'if-modified-since': 'yesterday' }, cached())).to.equal(false);
    expect(
      isNotModified({ 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }, cached({ headers: [] })),
    ).to.equal(false);
  });

  it('applies only to 2xx responses and to conditional requests', () => {
    expect(isNotModified({ 'if-none-match': '"v1"' }, cached({ status: 404 }))).to.equal(false);
    expect(isNotModified({}, cached())).to.equal(false);
  });
});

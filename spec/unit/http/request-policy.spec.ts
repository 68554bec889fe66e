import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'chai';
import { bypassReason, hasBody, isCacheableMethod } from '../../../src/http/request-policy.js';

const anonymous = { keysAuthorization: false, keysCookie: false };

function reasonFor(method: string, headers: IncomingHttpHeaders = {}, originalMethod?: string) {
  return bypassReason({ method, headers, originalMethod }, anonymous);
}

describe('request policy', () => {
  it('uses the cache for GET and HEAD only', () => {
    expect(
      ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', undefined].map(isCacheableMethod),
    ).to.deep.equal([true, true, false, false, false, false, false]);
    expect(reasonFor('POST')).to.equal('method');
  });

  it('bypasses a request whose method was overridden from one the cache does not answer', () => {
    expect(reasonFor('GET', {}, 'POST')).to.equal('method');
    expect(reasonFor('GET', {}, 'GET')).to.equal(undefined);
  });

  it('bypasses credentialed requests unless the route keys them', () => {
    expect(reasonFor('GET', { authorization: 'Basic x' })).to.equal('authorization');
    expect(reasonFor('GET', { cookie: 'a=b' })).to.equal('cookie');
    const keysAuthorization = { keysAuthorization: true, keysCookie: false };
    expect(
      bypassReason({ method: 'GET', headers: { authorization: 'Basic x' } }, keysAuthorization),
    ).to.equal(undefined);
    expect(
      bypassReason(
        { method: 'GET', headers: { authorization: 'Basic x', cookie: 'a=b' } },
        keysAuthorization,
      ),
    ).to.equal('cookie');
  });

  it('bypasses range requests', () => {
    expect(reasonFor('GET', { range: 'bytes=0-1' })).to.equal('range');
  });

  it('bypasses GET and HEAD requests that carry a body (RFC 9110 §9.3.1)', () => {
    expect(reasonFor('GET', { 'content-length': '5' })).to.equal('body');
    expect(reasonFor('HEAD', { 'transfer-encoding': 'chunked' })).to.equal('body');
    expect(reasonFor('GET', { 'content-length': 'junk' })).to.equal('body');
    expect(hasBody({ 'content-length': '0' })).to.equal(false);
    expect(hasBody({})).to.equal(false);
  });

  it('lets plain GET and HEAD requests use the cache', () => {
    expect(reasonFor('GET', { accept: '*/*' })).to.equal(undefined);
    expect(reasonFor('HEAD')).to.equal(undefined);
  });
});

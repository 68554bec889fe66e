import { expect } from 'chai';
import { bypassReason, isCacheableMethod } from '../../../src/http/request-policy.js';

describe('request policy', () => {
  const anonymous = { keysAuthorization: false, keysCookie: false };

  it('uses the cache for GET and HEAD only', () => {
    expect(
      ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', undefined].map(isCacheableMethod),
    ).to.deep.equal([true, true, false, false, false, false, false]);
    expect(bypassReason('POST', {}, anonymous)).to.equal('method');
  });

  it('bypasses credentialed requests unless the route keys them', () => {
    expect(bypassReason('GET', { authorization: 'Basic x' }, anonymous)).to.equal('authorization');
    expect(bypassReason('GET', { cookie: 'a=b' }, anonymous)).to.equal('cookie');
    expect(
      bypassReason('GET', { authorization: 'Basic x' }, { keysAuthorization: true, keysCookie: false }),
    ).to.equal(undefined);
    expect(
      bypassReason(
        'GET',
        { authorization: 'Basic x', cookie: 'a=b' },
        { keysAuthorization: true, keysCookie: false },
      ),
    ).to.equal('cookie');
  });

  it('bypasses range requests', () => {
    expect(bypassReason('GET', { range: 'bytes=0-1' }, anonymous)).to.equal('range');
  });

  it('lets plain GET and HEAD requests use the cache', () => {
    expect(bypassReason('GET', { accept: '*/*' }, anonymous)).to.equal(undefined);
    expect(bypassReason('HEAD', {}, anonymous)).to.equal(undefined);
  });
});

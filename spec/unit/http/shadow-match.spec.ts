import { expect } from 'chai';
import type { CachedResponse, VariantsRecord } from '../../../src/http/cached-response.js';
import { responseShadowMatch } from '../../../src/http/shadow-match.js';

function response(status: number, body: string, headers: CachedResponse['headers'] = []): CachedResponse {
  return { kind: 'response', status, headers, body: Buffer.from(body), etag: undefined, route: '/r' };
}

const record: VariantsRecord = { kind: 'variants', names: ['accept-language'], route: '/r' };

describe('responseShadowMatch', () => {
  it('is same for the same status and body bytes, whatever the headers', () => {
    const cached = response(200, '{"v":1}', [['date', 'Mon, 01 Jan 2026 00:00:00 GMT']]);
    const fresh = response(200, '{"v":1}', [['date', 'Tue, 02 Jan 2026 00:00:00 GMT']]);
    expect(responseShadowMatch({ would: 'hit', cached }, fresh, 200)).to.equal('same');
  });

  it('is different for another body or another status', () => {
    const cached = response(200, '{"v":1}');
    expect(responseShadowMatch({ would: 'stale', cached }, response(200, '{"v":2}'), 200)).to.equal(
      'different',
    );
    expect(responseShadowMatch({ would: 'hit', cached }, response(203, '{"v":1}'), 203)).to.equal(
      'different',
    );
  });

  it('is none for a would-be miss', () => {
    expect(responseShadowMatch({ would: 'miss', cached: undefined }, response(200, 'x'), 200)).to.equal(
      'none',
    );
  });

  it('for a response not kept, is different when its status differs from the stored one, else none', () => {
    const cached = response(200, '{"v":1}');
    expect(responseShadowMatch({ would: 'hit', cached }, undefined, 404)).to.equal('different');
    expect(responseShadowMatch({ would: 'hit', cached }, undefined, 200)).to.equal('none');
  });

  it('is different when a Vary record stands where the handler now sends another response', () => {
    expect(responseShadowMatch({ would: 'hit', cached: record }, response(200, 'x'), 200)).to.equal(
      'different',
    );
  });

  it('is none when there was no stored value to compare', () => {
    expect(responseShadowMatch({ would: 'hit', cached: undefined }, response(200, 'x'), 200)).to.equal(
      'none',
    );
  });
});

import { expect } from 'chai';
import { hashCacheKey } from '../../../src/observability/hash-cache-key.js';

describe('hashCacheKey', () => {
  it('is 16 hex characters that do not reveal the key', () => {
    const hash = hashCacheKey('user:alice@example.com');
    expect(hash).to.match(/^[0-9a-f]{16}$/);
    expect(hash).to.not.include('alice');
  });

  it('is stable across calls, so entries about one key can be correlated', () => {
    expect(hashCacheKey('GET /api/items/1')).to.equal(hashCacheKey('GET /api/items/1'));
  });

  it('differs between keys', () => {
    expect(hashCacheKey('GET /api/items/1')).to.not.equal(hashCacheKey('GET /api/items/2'));
  });
});

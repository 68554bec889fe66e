import { expect } from 'chai';
import { createClient, createCluster } from 'redis';
import { isRedisClientLike } from '../../../src/store/redis-client-like.js';
import { createStubRedisClient } from '../../support/stub-redis-client.js';

describe('isRedisClientLike', () => {
  it('recognises node-redis clients from createClient() and createCluster(), without connecting', () => {
    expect(isRedisClientLike(createClient())).to.equal(true);
    expect(isRedisClientLike(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] }))).to.equal(true);
  });

  it('recognises the stubbed client of the unit specs', () => {
    expect(isRedisClientLike(createStubRedisClient())).to.equal(true);
  });

  it('refuses values that lack the commands the store sends', () => {
    for (const value of [null, undefined, 42, 'redis://localhost', {}, { get() {}, set() {} }]) {
      expect(isRedisClientLike(value)).to.equal(false);
    }
  });
});

import { expect } from 'chai';
import { createClient, createCluster } from 'redis';
import { isRedisClientLike, withoutClientTimeout } from '../../../src/store/redis-client-like.js';
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

describe('withoutClientTimeout', () => {
  it("turns node-redis's own per-command timeout off, since the cache bounds every call itself", () => {
    const client = createClient();
    const view = withoutClientTimeout(client) as unknown as { _commandOptions: { timeout?: number } };
    expect((client as unknown as { _commandOptions: { timeout?: number } })._commandOptions.timeout).to.equal(
      5000,
    );
    expect(view._commandOptions.timeout).to.equal(0);
  });

  it('keeps the timeout off in a typed view of it', () => {
    const view = withoutClientTimeout(createClient()).withTypeMapping({}) as unknown as {
      _commandOptions: { timeout?: number };
    };
    expect(view._commandOptions.timeout).to.equal(0);
  });

  it('leaves a client without withCommandOptions as it is', () => {
    const stub = createStubRedisClient();
    expect(withoutClientTimeout(stub)).to.equal(stub);
  });
});

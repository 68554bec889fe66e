import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { parseInvalidationMessage } from '../../../src/store/invalidation-bus.js';
import { RedisInvalidationBus, type RedisSubscriberLike } from '../../../src/store/redis-invalidation-bus.js';

/** A subscriber connection whose life the spec drives: node-redis's events, no socket. */
class FakeSubscriber extends EventEmitter implements RedisSubscriberLike {
  async connect(): Promise<void> {
    this.emit('ready');
  }
  async subscribe(): Promise<void> {}
  destroy(): void {}
}

describe('RedisInvalidationBus', () => {
  async function subscribed() {
    const subscriber = new FakeSubscriber();
    const bus = new RedisInvalidationBus(
      { publish: async () => 1, duplicate: () => subscriber },
      'channel',
      () => undefined,
    );
    let gaps = 0;
    await bus.subscribe(
      () => undefined,
      () => {
        gaps += 1;
      },
    );
    return { bus, subscriber, gaps: () => gaps };
  }

  it('reports no gap for the first connection', async () => {
    const { gaps } = await subscribed();
    expect(gaps()).to.equal(0);
  });

  it('reports a gap when the connection is lost and again when it is ready after that', async () => {
    const { subscriber, gaps } = await subscribed();
    subscriber.emit('reconnecting');
    expect(gaps(), 'on the loss').to.equal(1);
    subscriber.emit('ready');
    expect(gaps(), 'once subscribed again').to.equal(2);
  });

  it('reports nothing once closed', async () => {
    const { bus, subscriber, gaps } = await subscribed();
    await bus.close();
    subscriber.emit('reconnecting');
    subscriber.emit('ready');
    expect(gaps()).to.equal(0);
  });

  it('reads back what an instance announces, its flags included, and nothing else', () => {
    const announced = { origin: 'a', keys: ['p:__ca:v:0123456789ab:k'], tagged: true, allVersions: true };
    expect(parseInvalidationMessage(JSON.stringify({ ...announced, extra: 1 }))).to.deep.equal(announced);
    expect(
      parseInvalidationMessage(JSON.stringify({ origin: 'a', pattern: 'p:*', allVersions: 'yes' })),
    ).to.deep.equal({ origin: 'a', pattern: 'p:*' });
    expect(parseInvalidationMessage('{"origin":"a"}')).to.equal(undefined);
    expect(parseInvalidationMessage('not json')).to.equal(undefined);
  });
});

describe('Messages on the invalidation channel', () => {
  it('reads a mode switch, and an invalidation as before', () => {
    expect(parseInvalidationMessage('{"origin":"a","mode":"shadow"}')).to.deep.equal({
      origin: 'a',
      mode: 'shadow',
    });
    expect(parseInvalidationMessage('{"origin":"a","keys":["p:k"],"tagged":true}')).to.deep.equal({
      origin: 'a',
      keys: ['p:k'],
      tagged: true,
    });
  });

  it('ignores a mode it does not know rather than guess, and anything without an origin', () => {
    expect(parseInvalidationMessage('{"origin":"a","mode":"partial"}')).to.equal(undefined);
    expect(parseInvalidationMessage('{"origin":"a","mode":"off","keys":["p:k"]}')).to.deep.equal({
      origin: 'a',
      mode: 'off',
    });
    expect(parseInvalidationMessage('{"mode":"off"}')).to.equal(undefined);
    expect(parseInvalidationMessage('not json')).to.equal(undefined);
  });
});

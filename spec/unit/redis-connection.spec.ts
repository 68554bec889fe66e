import { expect } from 'chai';
import {
  createRedisClient,
  type RedisConnectionOptions,
  toClientOptions,
} from '../../src/redis-connection.js';

interface SocketView {
  host?: string;
  port?: number;
  tls?: boolean;
  ca?: string;
  servername?: string;
  connectTimeout?: number;
  socketTimeout?: number;
  reconnectStrategy: (retries: number) => number;
}

function socketOf(options: RedisConnectionOptions): SocketView {
  return toClientOptions(options).socket as SocketView;
}

describe('toClientOptions', () => {
  it('connects to 127.0.0.1:6379 by default, failing fast while disconnected', () => {
    const options = toClientOptions({});
    expect(options).to.not.have.any.keys('url', 'database', 'username', 'password');
    expect(options.disableOfflineQueue).to.equal(true);
    expect(socketOf({})).to.include({
      host: '127.0.0.1',
      port: 6379,
      connectTimeout: 2_000,
      socketTimeout: 0,
    });
    expect(socketOf({})).to.not.have.property('tls');
  });

  it('passes a URL through and lets explicit host and port override it', () => {
    expect(toClientOptions({ url: 'redis://cache.internal:6380' }).url).to.equal(
      'redis://cache.internal:6380',
    );
    expect(socketOf({ url: 'redis://cache.internal:6380' })).to.not.have.any.keys('host', 'port');
    expect(socketOf({ url: 'redis://cache.internal:6380', host: 'other', port: 7000 })).to.include({
      host: 'other',
      port: 7000,
    });
  });

  it('maps host, port, db, username and password', () => {
    const options = toClientOptions({
      host: 'redis',
      port: 6390,
      db: 15,
      username: 'app',
      password: 's3cret',
    });
    expect(options).to.include({ database: 15, username: 'app', password: 's3cret' });
    expect(socketOf({ host: 'redis', port: 6390 })).to.include({ host: 'redis', port: 6390 });
  });

  it('keeps database 0 when asked for explicitly', () => {
    expect(toClientOptions({ db: 0 }).database).to.equal(0);
  });

  it('turns TLS on with true, or with Node TLS options', () => {
    expect(socketOf({ tls: true })).to.include({ tls: true });
    expect(socketOf({ tls: { ca: 'PEM', servername: 'redis.example' } })).to.include({
      tls: true,
      ca: 'PEM',
      servername: 'redis.example',
    });
    expect(socketOf({ tls: false })).to.not.have.property('tls');
  });

  it('maps the connect and idle timeouts in milliseconds', () => {
    expect(socketOf({ connectTimeoutMs: 500, socketTimeoutMs: 30_000 })).to.include({
      connectTimeout: 500,
      socketTimeout: 30_000,
    });
  });

  it('reconnects with an exponential backoff from 50 ms, capped at 2 s', () => {
    const { reconnectStrategy } = socketOf({});
    expect([0, 1, 2, 3, 4, 5, 6, 10, 100].map(reconnectStrategy)).to.deep.equal([
      50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000,
    ]);
  });

  it('caps the backoff at maxReconnectDelayMs', () => {
    const { reconnectStrategy } = socketOf({ maxReconnectDelayMs: 300 });
    expect([0, 1, 2, 3, 50].map(reconnectStrategy)).to.deep.equal([50, 100, 200, 300, 300]);
  });

  describe('rejects invalid input with a TypeError that names it', () => {
    const cases: Array<[string, RedisConnectionOptions, RegExp]> = [
      ['port 0', { port: 0 }, /`port`/],
      ['port 65536', { port: 65_536 }, /`port`/],
      ['a fractional port', { port: 6379.5 }, /`port`/],
      ['a NaN port', { port: Number.NaN }, /`port`/],
      ['a negative db', { db: -1 }, /`db`/],
      ['a fractional db', { db: 1.5 }, /`db`/],
      ['a URL of another scheme', { url: 'http://localhost:6379' }, /`url`/],
      ['a URL without a scheme', { url: 'localhost:6379' }, /`url`/],
    ];
    for (const [label, options, message] of cases) {
      it(label, () => {
        expect(() => toClientOptions(options)).to.throw(TypeError, message);
        expect(() => createRedisClient(options)).to.throw(TypeError, message);
      });
    }

    it('accepts rediss:// URLs', () => {
      expect(() => toClientOptions({ url: 'rediss://secure.example:6380' })).to.not.throw();
    });
  });
});

describe('createRedisClient', () => {
  it('builds a client without connecting it', () => {
    const client = createRedisClient({ port: 6390 });
    expect(client.isOpen).to.equal(false);
    expect(client.isReady).to.equal(false);
  });
});

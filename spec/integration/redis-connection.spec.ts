import { expect } from 'chai';
import { createClient } from 'redis';
import { connectRedis } from '../../src/redis-connection.js';
import { startRedis } from '../support/redis-server.js';
import { useRedisServer } from '../support/redis-server-fixture.js';

describe('connectRedis against a real Redis', () => {
  const server = useRedisServer();

  it('connects with a URL and answers commands', async () => {
    const client = await connectRedis({ url: server.url });
    try {
      expect(client.isReady).to.equal(true);
      expect(await client.ping()).to.equal('PONG');
    } finally {
      client.destroy();
    }
  });

  it('connects with host, port and db, and writes into that database', async () => {
    const client = await connectRedis({ host: server.host, port: server.port, db: 3 });
    const observer = await createClient({ url: server.url }).connect();
    try {
      await client.set('connection:db', 'three');
      await observer.select(3);
      expect(await observer.get('connection:db')).to.equal('three');
      await observer.select(0);
      expect(await observer.get('connection:db')).to.equal(null);
    } finally {
      await observer.select(3);
      await observer.flushDb();
      client.destroy();
      observer.destroy();
    }
  });

  it('rejects when nothing listens, instead of hanging', async () => {
    const stopped = await startRedis();
    await stopped.stop();
    const error = await connectRedis({ host: stopped.host, port: stopped.port, connectTimeoutMs: 500 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/ECONNREFUSED/);
  });

  it('fails commands at once while the connection is down, instead of queueing them', async () => {
    const client = await connectRedis({ url: server.url, maxReconnectDelayMs: 100 });
    const killer = await createClient({ url: server.url }).connect();
    try {
      const dropped = new Promise((resolve) => client.once('error', resolve));
      client.on('error', () => undefined);
      await killer.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      await dropped;
      expect(client.isReady).to.equal(false);
      // A queued command would wait for the reconnection and then resolve.
      const error = await client.get('k').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(Error);
    } finally {
      client.destroy();
      killer.destroy();
    }
  });
});

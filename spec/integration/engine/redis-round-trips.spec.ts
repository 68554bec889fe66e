import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import { createClient } from 'redis';
import request from 'supertest';
import { createCache } from '../../../src/create-cache.js';
import type { Cache } from '../../../src/engine/cache.js';
import { responseCache } from '../../../src/http/response-cache.js';
import { LOCK_THEN_GET_SCRIPT, RELEASE_LOCK_SCRIPT } from '../../../src/store/redis-store.js';
import {
  GUARDED_WRITE_AND_RELEASE_SCRIPT,
  GUARDED_WRITE_SCRIPT,
  LOCK_THEN_GET_WITH_LEASE_SCRIPT,
  READ_LEASE_SCRIPT,
  RENEW_SCRIPT,
} from '../../../src/store/stamp-scripts.js';
import { PATIENT_REDIS_TIMEOUT_MS, START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

const connect = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connect>>;

/** The store's scripts by SHA-1, so that the log can say which one an EVALSHA ran. */
const SCRIPTS = new Map<string, string>([
  [LOCK_THEN_GET_SCRIPT.sha1, 'lock'],
  [LOCK_THEN_GET_WITH_LEASE_SCRIPT.sha1, 'lock+lease'],
  [READ_LEASE_SCRIPT.sha1, 'lease'],
  [GUARDED_WRITE_SCRIPT.sha1, 'write'],
  [GUARDED_WRITE_AND_RELEASE_SCRIPT.sha1, 'write+release'],
  [RELEASE_LOCK_SCRIPT.sha1, 'release'],
  [RENEW_SCRIPT.sha1, 'renew'],
]);

/**
 * The commands that clients send, in order, as MONITOR reports them: the commands a script runs
 * inside Redis are reported as coming from `lua` and left out (they cost no round trip). A script is
 * logged with its name: `evalsha lock`, or `eval lock` when it was sent in full.
 */
class CommandLog {
  readonly sent: string[] = [];

  static async attach(client: Client): Promise<CommandLog> {
    const log = new CommandLog();
    await client.monitor((line: string) => {
      const match = /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"(?: "((?:[^"\\]|\\.)*)")?/.exec(line);
      if (match === null || match[1] === 'lua') return;
      const command = (match[2] as string).toLowerCase();
      const script =
        command === 'evalsha'
          ? SCRIPTS.get(match[3] ?? '')
          : command === 'eval'
            ? [...SCRIPTS.entries()].find(([, name]) => match[3] === sourceOf(name))?.[1]
            : undefined;
      log.sent.push(script === undefined ? command : `${command} ${script}`);
    });
    return log;
  }

  /**
   * Waits until `count` commands are logged (MONITOR is a separate connection, a little behind); the
   * deadline bounds a hang, not speed.
   */
  async until(count: number): Promise<string[]> {
    const deadline = performance.now() + 10_000;
    while (this.sent.length < count && performance.now() < deadline) await sleep(10);
    return [...this.sent];
  }

  /** The commands logged before `command`, once it shows up. */
  async before(command: string): Promise<string[]> {
    const deadline = performance.now() + 10_000;
    while (!this.sent.includes(command) && performance.now() < deadline) await sleep(10);
    const end = this.sent.indexOf(command);
    return end === -1 ? [...this.sent] : this.sent.slice(0, end);
  }
}

/** A script's source as MONITOR prints it (quotes and backslashes escaped). */
function sourceOf(name: string): string | undefined {
  const script = [
    LOCK_THEN_GET_SCRIPT,
    LOCK_THEN_GET_WITH_LEASE_SCRIPT,
    READ_LEASE_SCRIPT,
    GUARDED_WRITE_SCRIPT,
    GUARDED_WRITE_AND_RELEASE_SCRIPT,
    RELEASE_LOCK_SCRIPT,
    RENEW_SCRIPT,
  ].find((candidate) => SCRIPTS.get(candidate.sha1) === name);
  return script?.source.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// What a lookup asks of Redis is what a request waits for: every command answered before the loader
// runs is a round trip added to a miss.
describe('Redis round trips of a lookup, as MONITOR sees them', () => {
  let server: TestRedis;
  let client: Client;
  let observer: Client;
  const monitors: Client[] = [];
  let cache: Cache;

  /** Starts logging the commands that reach Redis from now on. */
  async function logCommands(): Promise<CommandLog> {
    const monitor = await connect(server.url);
    monitors.push(monitor);
    return CommandLog.attach(monitor);
  }

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    server = await startRedis();
    client = await connect(server.url);
    observer = await connect(server.url);
  });

  beforeEach(async () => {
    cache = createCache({
      redis: client,
      prefix: 'rt:',
      ttl: 60,
      registry: false,
      logger: silentLogger,
      // A slow reply on a busy machine must not pass for a timeout, which changes the commands sent.
      redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    });
    // The first miss teaches Redis the scripts (EVALSHA answers NOSCRIPT once, then EVAL).
    await cache.get('warm-up', async () => 'value');
  });

  afterEach(async () => {
    for (const monitor of monitors.splice(0)) monitor.destroy();
    await cache.close();
    await client.flushAll();
  });

  after(async () => {
    client?.destroy();
    observer?.destroy();
    await server?.stop();
  });

  it('a miss: three commands. A GET; one script that takes the lock, reads the entry again and reads the lease, before the loader runs; one script that writes and releases the lock', async () => {
    const log = await logCommands();
    let beforeLoader: string[] = [];

    await cache.get('item', async () => {
      beforeLoader = await log.until(2);
      return 'loaded';
    });

    expect(beforeLoader).to.deep.equal(['get', 'evalsha lock+lease']);
    // Then the value is written under the lease and the lock released (compare-and-delete), in one script.
    expect((await log.until(3)).slice(2)).to.deep.equal(['evalsha write+release']);
    await sleep(50);
    await client.sendCommand(['ECHO', 'end of the miss']);
    expect(await log.before('echo'), 'nothing else').to.have.lengthOf(3);
    expect(await observer.exists('rt:__ca:lock:{rt:item}'), 'lock released').to.equal(0);
    expect(await cache.get('item', async () => 'not called')).to.equal('loaded');
  });

  it('a miss whose key is invalidated while the loader runs: the lease read with the lock refuses the write', async () => {
    const refused: string[] = [];
    cache.events.on('write-refused', ({ reason }) => refused.push(reason));
    const log = await logCommands();

    const value = await cache.get('item', async () => {
      // The source is read, then the key is invalidated before the value is stored.
      await cache.invalidate('item');
      return 'read before the invalidation';
    });

    expect(value).to.equal('read before the invalidation');
    expect(refused).to.deep.equal(['invalidated']);
    expect((await log.until(2)).slice(0, 2)).to.deep.equal(['get', 'evalsha lock+lease']);
    expect(await log.before('evalsha write+release'), 'no lease read of its own').to.not.include(
      'evalsha lease',
    );
    expect(await observer.exists('rt:item')).to.equal(0);
    expect(await observer.exists('rt:__ca:lock:{rt:item}'), 'lock released').to.equal(0);
  });

  it('a hit: one GET and nothing else', async () => {
    await cache.set('item', 'stored');
    const log = await logCommands();

    expect(await cache.get('item', async () => 'not called')).to.equal('stored');

    // Whatever the cache sent for the hit went out on its connection before this marker, which
    // Redis handles (and MONITOR logs) in order; a short pause first lets any late command start.
    await sleep(50);
    await client.sendCommand(['ECHO', 'end of the hit']);
    expect(await log.before('echo')).to.deep.equal(['get']);
  });

  it('sends a script in full when Redis forgot it (SCRIPT FLUSH), and still loads once', async () => {
    await observer.scriptFlush();
    const log = await logCommands();
    let loads = 0;

    expect(await cache.get('item', async () => `loaded ${++loads}`)).to.equal('loaded 1');

    // Each script is tried by SHA-1, refused (NOSCRIPT), then sent in full, once.
    const sent = await log.until(5);
    expect(sent[0]).to.equal('get');
    expect([...sent.slice(1)].sort()).to.deep.equal(
      ['lock+lease', 'write+release'].flatMap((name) => [`eval ${name}`, `evalsha ${name}`]).sort(),
    );
    expect(loads).to.equal(1);
    expect(await observer.exists('rt:__ca:lock:{rt:item}'), 'lock released').to.equal(0);
  });

  it('a revalidation (the loader says the stale value is current): the times renewed in place, the value not written again', async () => {
    await cache.get('item', async () => 'a large value', { ttl: 0.05, staleTtl: 60 });
    await sleep(100);
    const log = await logCommands();
    let asked = 0;
    const served = await cache.lookup(
      'item',
      async (_key, context) => {
        asked++;
        return context.revalidated?.() ?? 'not revalidated';
      },
      { ttl: 60, staleTtl: 60 },
    );
    expect(served).to.deep.include({ result: 'stale', value: 'a large value' });
    const sent = await log.until(5);
    expect(asked).to.equal(1);
    expect(sent).to.include('evalsha renew');
    expect(sent, 'no write of the whole entry').to.not.include('evalsha write');
    expect(await cache.lookup('item', async () => 'not called')).to.deep.include({
      result: 'hit',
      value: 'a large value',
    });
  });

  it("Express's own 304 to a revalidation renews a response entry with one small script, no body write", async () => {
    const app = express();
    let runs = 0;
    // Stale after 50 ms at first; the revalidation's 304 then gives a minute, so that the last request
    // finds the renewed entry fresh however slowly it comes (the renewal, not the clock, is checked).
    const ttl = () => (runs <= 1 ? 0.05 : 60);
    app.get('/item', responseCache(cache, { ttl, staleTtl: 60 }), (_req, res) => {
      runs++;
      res.json({ id: 1, text: 'x'.repeat(2048) });
    });
    const server = await served(app);
    await request(server).get('/item');
    await sleep(150);
    const log = await logCommands();
    const stale = await request(server).get('/item');
    expect(stale.headers['x-cache']).to.equal('STALE');
    // The background refresh: its lock and lease, then the renewal (the entry's times, by SETRANGE).
    const sent = await log.before('evalsha release');
    expect(runs, 'the handler ran again, and answered 304').to.equal(2);
    expect(sent).to.include('evalsha renew');
    expect(sent, 'no write of the whole entry').to.not.include('evalsha write');
    expect((await request(server).get('/item')).headers['x-cache']).to.equal('HIT');
  });
});

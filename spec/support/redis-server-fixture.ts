import { createClient } from 'redis';
import { START_UP_HOOK_TIMEOUT_MS } from './busy-machine.js';
import { type RedisProcess, spawnRedis, startRedis, type TestRedis } from './redis-server.js';

/** A connected node-redis client, for a spec's own commands (set-up, inspection, MONITOR…). */
export type RedisClient = ReturnType<typeof createClient>;

/** The redis-server of a `describe`: where it listens, read inside hooks and tests. */
export interface RedisServerFixture {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** A new client connected to it, destroyed after the `describe`'s tests, before the server stops. */
  connect(): Promise<RedisClient>;
}

/**
 * Starts a redis-server before the tests of the calling `describe` (`args`: extra server arguments)
 * and stops it after them all, once the clients made with `connect()` are destroyed.
 */
export function useRedisServer(args: readonly string[] = []): RedisServerFixture {
  let server: TestRedis | undefined;
  const clients: RedisClient[] = [];
  const started = (): TestRedis => {
    if (server === undefined)
      throw new Error('the redis-server is not started yet: use it inside hooks and tests');
    return server;
  };

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    server = await startRedis(args);
  });

  after(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await server?.stop();
  });

  return {
    get url() {
      return started().url;
    },
    get host() {
      return started().host;
    },
    get port() {
      return started().port;
    },
    connect: async () => {
      const client: RedisClient = createClient({ url: started().url });
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}

/** The redis-server of a `describe` and one client to it, connected before the tests. */
export interface ConnectedRedisFixture {
  readonly server: RedisServerFixture;
  /** The client, read inside tests (and hooks after the `describe`'s first `before`). */
  readonly client: RedisClient;
}

/** {@link useRedisServer}, and one client connected to it before the calling `describe`'s tests. */
export function useConnectedRedis(args: readonly string[] = []): ConnectedRedisFixture {
  const server = useRedisServer(args);
  let client: RedisClient | undefined;

  before(async () => {
    client = await server.connect();
  });

  return {
    server,
    get client() {
      if (client === undefined) throw new Error('the client is not connected yet: use it inside tests');
      return client;
    },
  };
}

/**
 * A redis-server of its own for each test of the calling `describe`, started before the test and
 * disposed of after it, once `closeFirst` (the test's clients and caches) has run.
 */
export function useRedisPerTest(
  closeFirst: () => Promise<void> | void = () => undefined,
  args: readonly string[] = [],
): { readonly current: RedisProcess } {
  let current: RedisProcess | undefined;

  beforeEach(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    current = await spawnRedis(args);
  });

  afterEach(async () => {
    try {
      await closeFirst();
    } finally {
      await current?.dispose();
      current = undefined;
    }
  });

  return {
    get current() {
      if (current === undefined) throw new Error('no redis-server runs outside a test');
      return current;
    },
  };
}

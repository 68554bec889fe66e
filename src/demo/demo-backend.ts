import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { connectRedis, type RedisConnection } from '../redis-connection.js';
import { MemoryStore } from '../store/memory-store.js';

/** Where the demo keeps its cache, and the one line that says which and why. */
export interface DemoBackend {
  redis?: RedisConnection;
  store?: MemoryStore;
  description: string;
  stop(): Promise<void>;
}

/**
 * `REDIS_URL` when it is set; else a private `redis-server` when one is on `PATH` (started by
 * redis-memory-server, which is told never to download one); else an in-process store, so that the
 * demo runs on a machine with nothing but Node and npm.
 */
export async function chooseDemoBackend(env: NodeJS.ProcessEnv = process.env): Promise<DemoBackend> {
  if (env.REDIS_URL) {
    const redis = await connectRedis({ url: env.REDIS_URL });
    return { redis, description: `Redis at ${env.REDIS_URL} (REDIS_URL)`, stop: () => redis.close() };
  }
  if (await isOnPath('redis-server', env.PATH)) {
    const { RedisMemoryServer } = await import('redis-memory-server');
    const server = new RedisMemoryServer({ instance: { ip: '127.0.0.1' } });
    await server.start();
    const url = `redis://${await server.getHost()}:${await server.getPort()}`;
    const redis = await connectRedis({ url });
    return {
      redis,
      description: `a private redis-server at ${url}, started from PATH (set REDIS_URL to use your own)`,
      stop: async () => {
        await redis.close();
        await server.stop();
      },
    };
  }
  return {
    store: new MemoryStore(),
    description:
      'an in-process store: REDIS_URL is not set and there is no redis-server on PATH (apt-get install redis-server, or set REDIS_URL, to see it over Redis)',
    stop: async () => {},
  };
}

async function isOnPath(command: string, searchPath: string | undefined): Promise<boolean> {
  for (const directory of (searchPath ?? '').split(path.delimiter)) {
    if (directory === '') continue;
    try {
      await access(path.join(directory, command), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

import { execFileSync } from 'node:child_process';
import { RedisMemoryServer } from 'redis-memory-server';

/** A real redis-server for one spec file, started by redis-memory-server from the binary on PATH. */
export interface TestRedis {
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts a fresh redis-server on a free loopback port; `args` are extra server arguments. */
export async function startRedis(args: string[] = []): Promise<TestRedis> {
  assertRedisServerOnPath();
  const server = new RedisMemoryServer({ instance: { ip: '127.0.0.1', args } });
  await server.start();
  const host = await server.getHost();
  const port = await server.getPort();
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    stop: async () => {
      await server.stop();
    },
  };
}

function assertRedisServerOnPath(): void {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server is not on PATH: install it (Debian: apt-get install -y redis-server)');
  }
}

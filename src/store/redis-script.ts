import { createHash } from 'node:crypto';
import type { RedisClientLike } from './redis-client-like.js';

type ScriptRunner = Pick<RedisClientLike, 'eval' | 'evalSha'>;

/**
 * A Lua script sent by its SHA-1 (`EVALSHA`). The body is sent (`EVAL`) only when the server does not
 * know it yet, after a restart, a failover or `SCRIPT FLUSH`: it crosses the network once per server,
 * not once per call.
 */
export class RedisScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  async run(client: ScriptRunner, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.sha1, options);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.source, options);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

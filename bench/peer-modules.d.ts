// The two peers ship no types; these declare the part of their API the benchmark uses.

declare module 'apicache' {
  import type { RequestHandler } from 'express';

  interface ApicacheOptions {
    /** A callback-style Redis client (node-redis v3 API): `hset`, `hgetall`, `expire`, `del`, `connected`. */
    redisClient?: object | false;
    defaultDuration?: string | number;
    debug?: boolean;
  }

  interface Apicache {
    middleware(duration?: string | number, toggle?: unknown, localOptions?: ApicacheOptions): RequestHandler;
    newInstance(options?: ApicacheOptions): Apicache;
    clear(target?: string): unknown;
  }

  const apicache: Apicache;
  export default apicache;
}

declare module 'express-redis-cache' {
  import type { EventEmitter } from 'node:events';
  import type { RequestHandler } from 'express';

  interface ExpressRedisCacheOptions {
    host?: string;
    port?: number;
    prefix?: string;
    /** Lifetime of an entry in seconds. */
    expire?: number;
  }

  interface ExpressRedisCache extends EventEmitter {
    connected: boolean;
    client: { quit(callback?: () => void): void };
    route(options?: { expire?: number; name?: string }): RequestHandler;
  }

  function createExpressRedisCache(options?: ExpressRedisCacheOptions): ExpressRedisCache;
  export default createExpressRedisCache;
}

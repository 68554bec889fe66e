import express from 'express';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import type { MemoryTierOptions } from '../../src/index.js';
import { createCache, responseCache } from '../../src/index.js';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

/** express-cache-aside as a user runs it, metrics on (a fresh prom-client Registry); the variants differ only in the tier. */
export function startOurs(memoryTier: MemoryTierOptions | false): StartVariant {
  return async ({ redisUrl }) => {
    const redis = await createClient({ url: redisUrl }).connect();
    const cache = createCache({
      redis,
      prefix: 'bench:',
      ttl: ENTRY_TTL_SECONDS,
      registry: new Registry(),
      memoryTier,
    });
    const app = express();
    app.get(ITEM_ROUTE, responseCache(cache), slowHandler);
    return {
      app,
      close: async () => {
        await cache.close();
        redis.destroy();
      },
    };
  };
}

import apicache from 'apicache';
import express from 'express';
import { createClient } from 'redis';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

/**
 * apicache in Redis mode over node-redis v6's callback wrapper, `createClient().legacy()`. As
 * shipped the pair does not work, silently: apicache calls `hset`/`hgetall` and checks `connected`
 * (node-redis ≤ 3 names), while the wrapper only has `HSET`/`hSet`, `HGETALL`/`hGetAll` and no
 * `connected`, so every request misses and nothing is stored. The shim below adds those three
 * names, pointing at the wrapper's own methods and the client's `isReady`; nothing else changes.
 */
export const startVariant: StartVariant = async ({ redisUrl }) => {
  const client = await createClient({ url: redisUrl }).connect();
  const legacy = client.legacy();
  Object.defineProperty(legacy, 'connected', { get: () => client.isReady });
  Object.defineProperty(legacy, 'hset', { value: Reflect.get(legacy, 'HSET') });
  Object.defineProperty(legacy, 'hgetall', { value: Reflect.get(legacy, 'HGETALL') });
  const cache = apicache.newInstance({ defaultDuration: ENTRY_TTL_SECONDS * 1000, redisClient: legacy });
  const app = express();
  app.get(ITEM_ROUTE, cache.middleware(), slowHandler);
  return {
    app,
    close: async () => {
      client.destroy();
    },
  };
};

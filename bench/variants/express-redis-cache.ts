import express from 'express';
import createExpressRedisCache from 'express-redis-cache';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

/** express-redis-cache 1.1 with the node-redis 2 client it bundles. */
export const startVariant: StartVariant = async ({ redisPort }) => {
  const cache = createExpressRedisCache({ host: '127.0.0.1', port: redisPort, expire: ENTRY_TTL_SECONDS });
  await new Promise<void>((resolve, reject) => {
    cache.once('connected', () => resolve());
    cache.once('error', reject);
  });
  // It emits every failure as `error`; without a listener an error event would end the process.
  cache.on('error', (error: unknown) => console.error('express-redis-cache:', error));
  const app = express();
  app.get(ITEM_ROUTE, cache.route(), slowHandler);
  return {
    app,
    close: async () => {
      await new Promise<void>((resolve) => cache.client.quit(() => resolve()));
    },
  };
};

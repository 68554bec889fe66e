import apicache from 'apicache';
import express from 'express';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

/** apicache with its default in-process store. */
export const startVariant: StartVariant = async () => {
  const cache = apicache.newInstance({ defaultDuration: ENTRY_TTL_SECONDS * 1000 });
  const app = express();
  app.get(ITEM_ROUTE, cache.middleware(), slowHandler);
  // apicache's per-key expiry timers die with the process; nothing else to release.
  return { app, close: async () => {} };
};

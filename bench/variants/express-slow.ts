import express from 'express';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import type { StartVariant } from './variant.js';

/** The floor: bare Express with the 20 ms handler and no cache. */
export const startVariant: StartVariant = async () => {
  const app = express();
  app.get(ITEM_ROUTE, slowHandler);
  return { app, close: async () => {} };
};

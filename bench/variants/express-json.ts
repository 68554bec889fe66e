import express from 'express';
import { ITEM_ROUTE, immediateHandler } from '../fixture-route.js';
import type { StartVariant } from './variant.js';

/** Bare Express building the JSON on every request, with no delay. */
export const startVariant: StartVariant = async () => {
  const app = express();
  app.get(ITEM_ROUTE, immediateHandler);
  return { app, close: async () => {} };
};

import express from 'express';
import { ITEM_ROUTE, preSerializedHandler } from '../fixture-route.js';
import type { StartVariant } from './variant.js';

/** The ceiling: bare Express sending a pre-serialized Buffer per URL. */
export const startVariant: StartVariant = async () => {
  const app = express();
  app.get(ITEM_ROUTE, preSerializedHandler);
  return { app, close: async () => {} };
};

import express, { type RequestHandler } from 'express';
import { createClient } from 'redis';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

type Redis = Awaited<ReturnType<typeof connect>>;

const connect = (url: string) => createClient({ url }).connect();

/**
 * The cache-aside middleware blog posts show, in its lean form: the URL as the key, one GET, the
 * cached string sent as is (no `JSON.parse` round trip, which many tutorials add), `res.send`
 * wrapped to store the body. No key normalisation, no header or status policy, no ETag, no
 * metrics, no timeout or failure handling.
 */
function tutorialCache(redis: Redis, ttlSeconds: number): RequestHandler {
  return async (req, res, next) => {
    const key = `tutorial:${req.originalUrl}`;
    const cached = await redis.get(key);
    if (cached !== null) {
      res.type('application/json').send(cached);
      return;
    }
    const send = res.send.bind(res);
    res.send = (body) => {
      if (res.statusCode === 200 && typeof body === 'string') {
        redis.set(key, body, { expiration: { type: 'EX', value: ttlSeconds } }).catch(() => {});
      }
      return send(body);
    };
    next();
  };
}

/** The hand-written tutorial middleware over node-redis v6. */
export const startVariant: StartVariant = async ({ redisUrl }) => {
  const redis = await connect(redisUrl);
  const app = express();
  app.get(ITEM_ROUTE, tutorialCache(redis, ENTRY_TTL_SECONDS), slowHandler);
  return {
    app,
    close: async () => {
      redis.destroy();
    },
  };
};

import express from 'express';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import type { MemoryTierOptions } from '../../src/index.js';
import { importBuilt, LIBRARY_ENV } from '../built-library.js';
import { ITEM_ROUTE, slowHandler } from '../fixture-route.js';
import { ENTRY_TTL_SECONDS, type StartVariant } from './variant.js';

/** The part of express-cache-aside's public API the variants use. */
type Library = Pick<typeof import('../../src/index.js'), 'createCache' | 'responseCache'>;

/** Loads the library a variant serves: this checkout's `src/`, or another revision's. */
export type LoadLibrary = () => Promise<Library>;

/**
 * This checkout's library: as built by the harness (see `built-library.ts`), as users run it; its
 * `src/` through tsx when started without the harness.
 */
export const loadThisCheckout: LoadLibrary = () => {
  const built = process.env[LIBRARY_ENV];
  return built === undefined || built === '' ? import('../../src/index.js') : importBuilt<Library>(built);
};

/**
 * express-cache-aside as a user runs it, metrics on (a fresh prom-client Registry); the variants
 * differ only in the tier, and in the `src/` they load. Without `memoryTier` there is no tier (the
 * default of every revision so far): the option is left out rather than set to `false`, so that
 * the same code runs against earlier revisions too. `quiet`: without what the cache observes (no
 * metrics, no tracing, no `Cache-Status`), to price it (see `bench/paired.ts`).
 */
export function startOurs(
  memoryTier: MemoryTierOptions | undefined,
  load = loadThisCheckout,
  quiet = false,
): StartVariant {
  return async ({ redisUrl }) => {
    const { createCache, responseCache } = await load();
    const redis = await createClient({ url: redisUrl }).connect();
    const cache = createCache({
      redis,
      prefix: 'bench:',
      ttl: ENTRY_TTL_SECONDS,
      ...(quiet ? { registry: false, tracing: false } : { registry: new Registry() }),
      ...(memoryTier === undefined ? {} : { memoryTier }),
    });
    const app = express();
    app.get(
      ITEM_ROUTE,
      quiet ? responseCache(cache, { cacheStatus: false }) : responseCache(cache),
      slowHandler,
    );
    return {
      app,
      close: async () => {
        await cache.close();
        redis.destroy();
      },
    };
  };
}

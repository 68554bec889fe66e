import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import request from 'supertest';
import {
  type Cache,
  type CacheOptions,
  createCache,
  type RedisClientLike,
  type ResponseCacheOptions,
  responseCache,
} from '../../src/index.js';
import { PATIENT_REDIS_TIMEOUT_MS } from './busy-machine.js';
import { proxyTo } from './origin-proxy.js';
import {
  DEFAULT_PROGRAM,
  type OriginProgram,
  type OriginRequest,
  replyOf,
  startOrigin,
} from './origin-server.js';
import { served } from './served.js';
import { silentLogger } from './silent-logger.js';

/**
 * Where the responses come from:
 * - `reverse proxy`: an Express app with `responseCache` in front of a plain node:http proxy
 *   ({@link proxyTo}) to an origin server ({@link startOrigin}) the spec programs;
 * - `in-process`: the same Express app whose handler itself sets what the origin would send.
 */
export type SetupName = 'reverse proxy' | 'in-process';

export const SETUPS: readonly SetupName[] = ['reverse proxy', 'in-process'];

/** Route options, with those that may not exist yet in `ResponseCacheOptions` (`cacheStatus`). */
export type RouteOptions = ResponseCacheOptions & { cacheStatus?: boolean };

/** Prefix of the rig's caches; with no `name` option, the cache's name (its `Cache-Status` identifier) is it without `:`. */
export const RIG_PREFIX = 'rfc9111:';

/** The route `ttl` the rig's caches default to: distinct from every lifetime a spec's headers give. */
const RIG_CACHE_TTL_SECONDS = 300;

export interface RigOptions {
  /** Over `{ prefix: 'rfc9111:', ttl: 300 }` and quiet, patient defaults. */
  cache?: Partial<CacheOptions>;
  /** Over `{ ttlFromCacheControl: true }`. */
  route?: RouteOptions;
}

/** A `request` event of the middleware. */
interface RequestEvent {
  result: string;
  reason?: string | undefined;
}

export interface Rig {
  readonly setup: SetupName;
  readonly cache: Cache;
  readonly server: Server;
  /** Programs the origin (or the in-process handler). */
  program(program: OriginProgram): void;
  /** How many requests reached the origin (ran the handler), background refreshes included. */
  originRequests(): number;
  /** The `request` events of the middleware so far, in order. */
  readonly events: readonly RequestEvent[];
  /** Supertest against the rig's server (one port, so that every request has the same key origin). */
  client(): ReturnType<typeof request>;
  /**
   * Waits until the cache has finished `count` loads in all (their write done and their lock released):
   * what a response stored is then visible to the next request. The deadline bounds a hang, not speed.
   */
  loadsFinished(count: number): Promise<void>;
  /** Waits until `count` requests have reached the origin; the deadline bounds a hang, not speed. */
  originReached(count: number): Promise<void>;
  /**
   * The `request` events once there are `count` (a response's event comes when it is done, which its
   * client may see a moment before); the deadline bounds a hang, not speed.
   */
  requestEvents(count: number): Promise<readonly RequestEvent[]>;
  close(): Promise<void>;
}

/** Starts one rig of `setup` over `redis`. */
export async function startRig(
  setup: SetupName,
  redis: RedisClientLike,
  options: RigOptions = {},
): Promise<Rig> {
  const cache = createCache({
    redis,
    prefix: RIG_PREFIX,
    ttl: RIG_CACHE_TTL_SECONDS,
    registry: false,
    logger: silentLogger,
    // Not about timeouts: a busy machine's slow reply must not count as a failed call.
    redisTimeoutMs: PATIENT_REDIS_TIMEOUT_MS,
    ...options.cache,
  });
  let releases = 0;
  // A load ends when its lock is released: by a call of its own, or by the write of its value.
  cache.events.on('store-operation', ({ operation, releasedLock }) => {
    if (operation === 'lock_release' || releasedLock === true) releases++;
  });
  const events: RequestEvent[] = [];
  cache.events.on('request', ({ result, reason }) => events.push({ result, reason }));
  // The options under test may not be known to today's `responseCache`: then creating it throws here,
  // and only the test that asked for them fails.
  const middleware = responseCache(cache, {
    ttlFromCacheControl: true,
    ...options.route,
  } as ResponseCacheOptions);
  const app = express();

  let program: OriginProgram = DEFAULT_PROGRAM;
  let handled = 0;
  let closeOrigin = async (): Promise<void> => {};
  let originCount: () => number;
  if (setup === 'reverse proxy') {
    const origin = await startOrigin();
    closeOrigin = () => origin.close();
    originCount = () => origin.requests.length;
    app.use(middleware, proxyTo(origin.port));
    return rig((next) => origin.program(next));
  }
  originCount = () => handled;
  app.use(middleware, (req, res) => {
    handled++;
    const received: OriginRequest = { method: req.method, url: req.url, headers: req.headers };
    const reply = replyOf(program, received, handled);
    res.status(reply.status);
    for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
    res.send(reply.body);
  });
  return rig((next) => {
    program = next;
  });

  async function rig(setProgram: (next: OriginProgram) => void): Promise<Rig> {
    const server = await served(app);
    return {
      setup,
      cache,
      server,
      program: setProgram,
      originRequests: () => originCount(),
      events,
      client: () => request(server),
      loadsFinished: async (count) => {
        if (!(await within(() => releases >= count))) {
          throw new Error(`${count} loads finished: not within 10 s (${releases} did)`);
        }
      },
      originReached: async (count) => {
        if (!(await within(() => originCount() >= count))) {
          throw new Error(`${count} requests at the origin: not within 10 s (${originCount()} came)`);
        }
      },
      requestEvents: async (count) => {
        if (!(await within(() => events.length >= count))) {
          throw new Error(`${count} request events: not within 10 s (${events.length} came)`);
        }
        return events;
      },
      close: async () => {
        await cache.close();
        await closeOrigin();
      },
    };
  }
}

async function within(condition: () => boolean): Promise<boolean> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** An IMF-fixdate (RFC 9110 §5.6.7) `offsetSeconds` from now. */
export function httpDate(offsetSeconds = 0): string {
  return new Date(Date.now() + offsetSeconds * 1000).toUTCString();
}

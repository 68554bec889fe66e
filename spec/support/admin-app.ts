import type { Express, NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import {
  addCacheTags,
  type Cache,
  type CacheAdminOptions,
  cacheAdmin,
  responseCache,
} from '../../src/index.js';
import { type ExpressModule, express5 } from './app-factory.js';
import { eventually } from './eventually.js';
import { served } from './served.js';

/** Options of {@link createAdminApp}. */
export interface AdminAppOptions {
  cache: Cache;
  /** Default {@link express5}. */
  express?: ExpressModule;
  /** Default: allowed when the request carries `X-Admin: yes`. */
  authorize?: CacheAdminOptions['authorize'];
  /** Default: the `X-Admin-User` header; `'default'`: the router's own default. */
  actor?: CacheAdminOptions['actor'] | 'default';
}

/** An app with cached routes and the admin router at `/_cache`, served on one port per test. */
export interface AdminApp {
  app: Express;
  /** Errors that reached the app's error handler. */
  errors: unknown[];
  /** How many times a cached route's handler ran. */
  calls(route: 'item' | 'lang'): number;
  /** A supertest agent for the app's one server of this test. */
  request(): Promise<supertest.Agent>;
  /**
   * GETs `path` (with `Accept-Language` when given) until it is answered from the cache: the cache
   * stores a response after it went out, so a request right after it may still miss.
   */
  cached(path: string, language?: string): Promise<void>;
  /** Requests the app as an admin (`X-Admin: yes`, `X-Admin-User: ops@example`); fails unless it answers `status`. */
  admin(method: 'get' | 'delete', path: string, status: number): Promise<supertest.Response>;
}

/**
 * Cached routes: `/api/items/:id` (tags `item:<id>` and `items`, 30 s fresh and 60 s stale, an
 * `X-Item` header) and `/api/lang` (`Vary: Accept-Language`, tag `lang`); the admin router at `/_cache`.
 */
export function createAdminApp(options: AdminAppOptions): AdminApp {
  const { cache } = options;
  const app = (options.express ?? express5)();
  const errors: unknown[] = [];
  const counts = { item: 0, lang: 0 };
  app.use(
    '/_cache',
    cacheAdmin(cache, {
      authorize: options.authorize ?? ((req) => req.get('x-admin') === 'yes'),
      ...(options.actor === 'default' ? {} : { actor: options.actor ?? ((req) => req.get('x-admin-user')) }),
    }),
  );
  app.get('/api/items/:id', responseCache(cache, { ttl: 30, staleTtl: 60 }), (req, res) => {
    counts.item++;
    addCacheTags(res, `item:${String(req.params.id)}`, 'items');
    res.set('X-Item', String(req.params.id)).json({ id: req.params.id, call: counts.item });
  });
  app.get('/api/lang', responseCache(cache, { tags: ['lang'] }), (req, res) => {
    counts.lang++;
    res.vary('Accept-Language').json({ language: req.headers['accept-language'] ?? null, call: counts.lang });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(error);
    res.status(500).json({ error: 'internal error' });
  });
  const request = async () => supertest.agent(await served(app));
  const xCache = async (path: string, language: string | undefined) => {
    const get = (await request()).get(path);
    const response = await (language === undefined ? get : get.set('Accept-Language', language)).expect(200);
    return response.headers['x-cache'];
  };
  return {
    app,
    errors,
    calls: (route) => counts[route],
    request,
    cached: async (path, language) => {
      await xCache(path, language);
      await eventually(async () => (await xCache(path, language)) === 'HIT', {
        message: `${path} answered from the cache`,
      });
    },
    admin: async (method, path, status) =>
      (await request())[method](path).set('X-Admin', 'yes').set('X-Admin-User', 'ops@example').expect(status),
  };
}

import { expect } from 'chai';
import cookieSession from 'cookie-session';
import type { Express, Response } from 'express';
import onHeaders from 'on-headers';
import type request from 'supertest';
import { type Cache, responseCache } from '../../../../src/index.js';
import type { ExpressModule } from '../../../support/app-factory.js';
import { createTestCache } from '../http-spec-helpers.js';
import {
  browsersLoggedInAt,
  client,
  cookieValue,
  EXPRESS_MAJORS,
  jsonOf,
  type SpecSession,
  sessionOf,
  setCookiesOf,
} from './safety-helpers.js';

/** How a handler sends its JSON body: each reaches `writeHead` by another path. */
type HandlerStyle = 'res.json' | 'res.writeHead + res.end' | 'res.write + res.end';

const STYLES: readonly HandlerStyle[] = ['res.json', 'res.writeHead + res.end', 'res.write + res.end'];

function sendJson(res: Response, style: HandlerStyle, body: object): void {
  const text = JSON.stringify(body);
  if (style === 'res.json') {
    res.json(body);
  } else if (style === 'res.writeHead + res.end') {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(text);
  } else {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.write(text.slice(0, 5));
    res.end(text.slice(5));
  }
}

/** The session cookie-session sent in `response` (base64 JSON), decoded; `undefined` when it sent none. */
function sentSession(response: request.Response): SpecSession | undefined {
  const value = cookieValue(response, 'session');
  if (value === undefined) return undefined;
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as SpecSession;
}

interface CookieSessionApp {
  app: Express;
  calls: Record<string, number>;
}

/** An app with cookie-session app-wide before the cache, and cached routes that touch the session in different ways. */
function cookieSessionApp(express: ExpressModule, cache: Cache, style: HandlerStyle): CookieSessionApp {
  const app = express();
  const calls: Record<string, number> = {};
  const count = (route: string) => {
    calls[route] = (calls[route] ?? 0) + 1;
    return calls[route];
  };
  app.use(cookieSession({ name: 'session', keys: ['cookie-session spec key'] }));
  // A middleware that, inside its own writeHead hook, records the visit in the session, on /seen only.
  // Its hook fires before cookie-session's (registered earlier), which then writes the cookie.
  app.use((req, res, next) => {
    if (req.path === '/seen') {
      onHeaders(res, () => {
        const state = sessionOf(req);
        if (state !== undefined) state.views = (state.views ?? 0) + 1;
      });
    }
    next();
  });

  app.post('/login/:user', (req, res) => {
    const state = sessionOf(req);
    if (state === undefined) throw new Error('no session');
    state.user = String(req.params.user);
    res.json({ user: state.user });
  });
  app.get('/writes', responseCache(cache), (req, res) => {
    const call = count('writes');
    const state = sessionOf(req);
    if (state === undefined) throw new Error('no session');
    state.x = `visitor-${call}`;
    sendJson(res, style, { x: state.x, call });
  });
  app.get('/reads', responseCache(cache), (req, res) => {
    const call = count('reads');
    sendJson(res, style, { x: sessionOf(req)?.x ?? null, call });
  });
  app.get('/seen', responseCache(cache), (_req, res) => {
    sendJson(res, style, { call: count('seen') });
  });
  const perUser = responseCache(cache, { credentialKey: (req) => sessionOf(req)?.user });
  app.get('/views', perUser, (req, res) => {
    const call = count('views');
    const state = sessionOf(req);
    if (state === undefined) throw new Error('no session');
    state.views = (state.views ?? 0) + 1;
    sendJson(res, style, { user: state.user ?? null, views: state.views, call });
  });
  app.get('/greeting', perUser, (req, res) => {
    sendJson(res, style, { hello: sessionOf(req)?.user ?? 'stranger', call: count('greeting') });
  });
  return { app, calls };
}

describe('responseCache behind cookie-session', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    for (const style of STYLES) {
      describe(`${major}, handler sends with ${style}`, () => {
        /** Two anonymous GETs of `path`, one after the other, from a fresh cookie-session app. */
        async function getTwice(path: string) {
          const { cache, store, requests } = createTestCache();
          const { app, calls } = cookieSessionApp(express, cache, style);
          const http = await client(app);
          const first = await http.get(path);
          const second = await http.get(path);
          return { store, requests, calls, first, second };
        }

        it('never stores or replays a response whose handler set req.session.x (the cookie is written in cookie-session’s writeHead hook)', async () => {
          const { store, requests, calls, first, second } = await getTwice('/writes');

          expect(first.headers['x-cache']).to.equal('MISS');
          expect(second.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(first)).to.deep.equal({ x: 'visitor-1', call: 1 });
          expect(jsonOf(second)).to.deep.equal({ x: 'visitor-2', call: 2 });
          expect(sentSession(first)).to.deep.equal({ x: 'visitor-1' });
          expect(sentSession(second)).to.deep.equal({ x: 'visitor-2' });
          expect(cookieValue(second, 'session.sig')).to.be.a('string');
          expect(calls.writes).to.equal(2);
          expect(store.writes).to.deep.equal([]);
          expect(requests.map(({ reason }) => reason)).to.deep.equal(['set-cookie', 'set-cookie']);
        });

        it('stores and replays a response that only read the session (cookie-session sends no cookie)', async () => {
          const { store, calls, first, second } = await getTwice('/reads');

          expect(setCookiesOf(first)).to.deep.equal([]);
          expect(first.headers['x-cache']).to.equal('MISS');
          expect(second.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(second)).to.deep.equal({ x: null, call: 1 });
          expect(setCookiesOf(second)).to.deep.equal([]);
          expect(calls.reads).to.equal(1);
          expect(store.writes).to.have.length(1);
        });

        it('never stores a response whose session another middleware changed inside its own writeHead hook', async () => {
          const { store, calls, first, second } = await getTwice('/seen');

          expect(sentSession(first)).to.deep.equal({ views: 1 });
          expect(sentSession(second)).to.deep.equal({ views: 1 });
          expect(second.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(second)).to.deep.equal({ call: 2 });
          expect(calls.seen).to.equal(2);
          expect(store.writes).to.deep.equal([]);
        });

        it('per user (credentialKey), never stores a page that updates the user’s session, and never shows one user another’s', async () => {
          const { cache, store } = createTestCache();
          const { app, calls } = cookieSessionApp(express, cache, style);
          const [alice, bob] = await browsersLoggedInAt(app, '/login/alice', '/login/bob');

          const aliceFirst = await alice.get('/views');
          const aliceSecond = await alice.get('/views');
          const bobFirst = await bob.get('/views');

          expect(aliceFirst.headers['x-cache']).to.equal('MISS');
          expect(aliceSecond.headers['x-cache']).to.equal('MISS');
          expect(bobFirst.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(aliceFirst)).to.deep.equal({ user: 'alice', views: 1, call: 1 });
          expect(jsonOf(aliceSecond)).to.deep.equal({ user: 'alice', views: 2, call: 2 });
          expect(jsonOf(bobFirst)).to.deep.equal({ user: 'bob', views: 1, call: 3 });
          expect(sentSession(aliceSecond)).to.deep.equal({ user: 'alice', views: 2 });
          expect(sentSession(bobFirst)).to.deep.equal({ user: 'bob', views: 1 });
          expect(calls.views).to.equal(3);
          expect(store.writes).to.deep.equal([]);
        });

        it('per user (credentialKey), caches a page that leaves the session alone once per user', async () => {
          const { cache } = createTestCache();
          const { app, calls } = cookieSessionApp(express, cache, style);
          const [alice, bob] = await browsersLoggedInAt(app, '/login/alice', '/login/bob');

          const aliceFirst = await alice.get('/greeting');
          const bobFirst = await bob.get('/greeting');
          const aliceSecond = await alice.get('/greeting');
          const bobSecond = await bob.get('/greeting');
          const stranger = await (await client(app)).get('/greeting');

          expect(jsonOf(aliceFirst)).to.deep.equal({ hello: 'alice', call: 1 });
          expect(jsonOf(bobFirst)).to.deep.equal({ hello: 'bob', call: 2 });
          expect(aliceSecond.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(aliceSecond)).to.deep.equal({ hello: 'alice', call: 1 });
          expect(bobSecond.headers['x-cache']).to.equal('HIT');
          expect(jsonOf(bobSecond)).to.deep.equal({ hello: 'bob', call: 2 });
          expect(stranger.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(stranger)).to.deep.equal({ hello: 'stranger', call: 3 });
          expect(calls.greeting).to.equal(3);
        });
      });
    }
  }
});

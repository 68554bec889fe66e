import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import compression from 'compression';
import type { Express, RequestHandler } from 'express';
import session from 'express-session';
import { type Cache, responseCache } from '../../../../src/index.js';
import type { ExpressModule } from '../../../support/app-factory.js';
import { eventually } from '../../../support/eventually.js';
import { createTestCache } from '../http-spec-helpers.js';
import {
  browser,
  browsersLoggedInAt,
  cacheFieldAndCall,
  client,
  cookieHeaderFrom,
  cookieValue,
  EXPRESS_MAJORS,
  jsonOf,
  PADDING,
  sessionOf,
  setCookiesOf,
} from './safety-helpers.js';

/** Where `compression()` sits relative to the session and the cache. */
type CompressionPlacement =
  | 'no compression'
  | 'before the session'
  | 'right after the session'
  | 'after the cache';

const PLACEMENTS: readonly CompressionPlacement[] = [
  'no compression',
  'before the session',
  'right after the session',
  'after the cache',
];

interface SessionAppOptions {
  express: ExpressModule;
  cache: Cache;
  saveUninitialized: boolean;
  placement: CompressionPlacement;
  rolling?: boolean;
  /** The first `/csrf` handler run waits until this many `/csrf` requests have arrived. */
  holdFirstCsrfUntil?: number;
}

interface SessionApp {
  app: Express;
  /** Handler runs per route. */
  calls: { csrf: number; account: number };
}

/**
 * An app as users build it: express-session (default MemoryStore) mounted app-wide before the cache,
 * a login route that names the user in the session, a cached page that writes a CSRF token into the
 * session, and a cached per-user page keyed as the README shows.
 */
function sessionApp(options: SessionAppOptions): SessionApp {
  const { express, cache, placement } = options;
  const app = express();
  const calls = { csrf: 0, account: 0 };
  let csrfArrivals = 0;
  const afterCache: RequestHandler[] = placement === 'after the cache' ? [compression()] : [];
  if (placement === 'before the session') app.use(compression());
  app.use(
    session({
      secret: 'express-session spec secret',
      resave: false,
      saveUninitialized: options.saveUninitialized,
      rolling: options.rolling ?? false,
    }),
  );
  if (placement === 'right after the session') app.use(compression());

  app.post('/login/:id', (req, res) => {
    const state = sessionOf(req);
    if (state === undefined) throw new Error('no session');
    state.userId = Number(req.params.id);
    res.json({ loggedIn: state.userId });
  });
  app.get(
    '/csrf',
    (_req, _res, next) => {
      csrfArrivals++;
      next();
    },
    responseCache(cache),
    ...afterCache,
    async (req, res) => {
      const call = ++calls.csrf;
      if (call === 1 && options.holdFirstCsrfUntil !== undefined) {
        const expected = options.holdFirstCsrfUntil;
        await eventually(() => csrfArrivals >= expected);
        // Let the requests that arrived reach the cache and wait on this one's load.
        for (let tick = 0; tick < 10; tick++) await new Promise((resolve) => setImmediate(resolve));
      }
      const state = sessionOf(req);
      if (state === undefined) throw new Error('no session');
      state.csrf = `csrf-${randomUUID()}`;
      res.json({ token: state.csrf, call, padding: PADDING });
    },
  );
  // Not cached: what the visitor's own session holds.
  app.get('/csrf/mine', (req, res) => {
    res.json({ token: sessionOf(req)?.csrf ?? null });
  });
  app.get(
    '/account',
    responseCache(cache, { credentialKey: (req) => sessionOf(req)?.userId }),
    ...afterCache,
    (req, res) => {
      const call = ++calls.account;
      res.json({ account: sessionOf(req)?.userId ?? 'anonymous', call, padding: PADDING });
    },
  );
  return { app, calls };
}

const compressed = (placement: CompressionPlacement) => placement !== 'no compression';

describe('responseCache behind express-session', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    for (const saveUninitialized of [true, false]) {
      describe(`${major}, saveUninitialized: ${saveUninitialized}`, () => {
        for (const placement of PLACEMENTS) {
          describe(`compression: ${placement}`, () => {
            it('never stores a page that wrote a CSRF token into a new session, and gives the next visitor their own token', async () => {
              const { cache, store, requests } = createTestCache();
              const { app, calls } = sessionApp({ express, cache, saveUninitialized, placement });
              const http = await client(app);

              const first = await http.get('/csrf');
              const second = await http.get('/csrf');

              expect(first.status).to.equal(200);
              expect(second.status).to.equal(200);
              expect(first.headers['x-cache']).to.equal('MISS');
              expect(second.headers['x-cache']).to.equal('MISS');
              if (compressed(placement)) expect(first.headers['content-encoding']).to.equal('gzip');
              const firstToken = jsonOf(first).token;
              const secondToken = jsonOf(second).token;
              expect(firstToken)
                .to.be.a('string')
                .and.match(/^csrf-/);
              expect(secondToken)
                .to.be.a('string')
                .and.match(/^csrf-/);
              expect(secondToken).to.not.equal(firstToken);
              expect(jsonOf(second).call).to.equal(2);
              expect(calls.csrf).to.equal(2);
              const firstSid = cookieValue(first, 'connect.sid');
              const secondSid = cookieValue(second, 'connect.sid');
              expect(firstSid, 'visitor 1 got a session cookie').to.be.a('string');
              expect(secondSid, 'visitor 2 got a session cookie').to.be.a('string');
              expect(secondSid).to.not.equal(firstSid);
              expect(store.writes).to.deep.equal([]);
              expect(requests.map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal([
                'miss/set-cookie',
                'miss/set-cookie',
              ]);

              // Each visitor's own session holds the token that visitor was sent.
              const mineFirst = await http.get('/csrf/mine').set('Cookie', cookieHeaderFrom(first));
              const mineSecond = await http.get('/csrf/mine').set('Cookie', cookieHeaderFrom(second));
              expect(jsonOf(mineFirst).token).to.equal(firstToken);
              expect(jsonOf(mineSecond).token).to.equal(secondToken);
            });

            it('caches /account per user with credentialKey: (req) => req.session?.userId, never across users or to anonymous visitors', async () => {
              const { cache } = createTestCache();
              const { app, calls } = sessionApp({ express, cache, saveUninitialized, placement });
              const alice = await browser(app);
              const bob = await browser(app);
              const anonymous = await client(app);

              const anonymousFirst = await anonymous.get('/account');
              expect(jsonOf(anonymousFirst)).to.include({ account: 'anonymous', call: 1 });
              expect(anonymousFirst.headers['x-cache']).to.equal('MISS');

              const aliceLogin = await alice.post('/login/1');
              const bobLogin = await bob.post('/login/2');
              expect(jsonOf(aliceLogin).loggedIn).to.equal(1);
              expect(jsonOf(bobLogin).loggedIn).to.equal(2);

              const aliceFirst = await alice.get('/account');
              const aliceSecond = await alice.get('/account');
              const bobFirst = await bob.get('/account');
              const bobSecond = await bob.get('/account');
              const anonymousSecond = await anonymous.get('/account');
              const aliceThird = await alice.get('/account');

              expect(aliceFirst.headers['x-cache']).to.equal('MISS');
              expect(jsonOf(aliceFirst)).to.include({ account: 1, call: 2 });
              expect(aliceSecond.headers['x-cache']).to.equal('HIT');
              expect(jsonOf(aliceSecond)).to.include({ account: 1, call: 2 });
              expect(bobFirst.headers['x-cache']).to.equal('MISS');
              expect(jsonOf(bobFirst)).to.include({ account: 2, call: 3 });
              expect(bobSecond.headers['x-cache']).to.equal('HIT');
              expect(jsonOf(bobSecond)).to.include({ account: 2, call: 3 });
              expect(aliceThird.headers['x-cache']).to.equal('HIT');
              expect(jsonOf(aliceThird)).to.include({ account: 1, call: 2 });
              expect(jsonOf(anonymousSecond).account).to.equal('anonymous');
              if (saveUninitialized) {
                // Every new visitor is sent a fresh session cookie: the anonymous page is never stored.
                expect(setCookiesOf(anonymousSecond)).to.have.length(1);
                expect(anonymousSecond.headers['x-cache']).to.equal('MISS');
                expect(jsonOf(anonymousSecond).call).to.equal(4);
                expect(calls.account).to.equal(4);
              } else {
                expect(anonymousSecond.headers['x-cache']).to.equal('HIT');
                expect(jsonOf(anonymousSecond).call).to.equal(1);
                expect(calls.account).to.equal(3);
              }
              if (compressed(placement)) expect(aliceSecond.headers['content-encoding']).to.equal('gzip');
            });

            it('sends a visitor whose session names no user past the cache, with the anonymous page made for them', async () => {
              const { cache } = createTestCache();
              const { app } = sessionApp({ express, cache, saveUninitialized, placement });
              const visitor = await browser(app);
              const alice = await browser(app);
              await alice.post('/login/1');
              await alice.get('/account');
              await (await client(app)).get('/account');

              await visitor.get('/csrf'); // the visitor now has a session cookie, and no userId
              const first = await visitor.get('/account');
              const second = await visitor.get('/account');

              expect(cacheFieldAndCall([first, second], 'account')).to.deep.equal([
                ['BYPASS', 'anonymous', 3],
                ['BYPASS', 'anonymous', 4],
              ]);
            });
          });
        }

        it('gives concurrent first-time visitors each their own token: none waits for and shares another’s page', async () => {
          const { cache, store, requests } = createTestCache();
          const visitors = 5;
          const { app, calls } = sessionApp({
            express,
            cache,
            saveUninitialized,
            placement: 'no compression',
            holdFirstCsrfUntil: visitors,
          });
          const http = await client(app);

          const responses = await Promise.all(Array.from({ length: visitors }, () => http.get('/csrf')));

          const tokens = responses.map((response) => jsonOf(response).token);
          const sids = responses.map((response) => cookieValue(response, 'connect.sid'));
          expect(responses.map((response) => response.headers['x-cache'])).to.deep.equal(
            Array(visitors).fill('MISS'),
          );
          expect(new Set(tokens).size, `tokens ${tokens.join()}`).to.equal(visitors);
          expect(sids.every((sid) => typeof sid === 'string')).to.equal(true);
          expect(new Set(sids).size).to.equal(visitors);
          expect(calls.csrf).to.equal(visitors);
          expect(store.writes).to.deep.equal([]);
          const reasons = requests.map(({ reason }) => reason);
          expect(reasons.filter((reason) => reason === 'set-cookie')).to.have.length.of.at.least(1);
          expect(reasons, 'the other visitors waited for the first one’s page').to.include('uncacheable');
          expect(reasons.every((reason) => reason === 'set-cookie' || reason === 'uncacheable')).to.equal(
            true,
          );
        });
      });
    }

    it(`${major}: with rolling sessions, never stores a user’s page (every response renews the cookie)`, async () => {
      const { cache, store } = createTestCache();
      const { app, calls } = sessionApp({
        express,
        cache,
        saveUninitialized: false,
        placement: 'no compression',
        rolling: true,
      });
      const [alice, bob] = await browsersLoggedInAt(app, '/login/1', '/login/2');

      const aliceFirst = await alice.get('/account');
      const bobFirst = await bob.get('/account');
      const aliceSecond = await alice.get('/account');

      for (const response of [aliceFirst, bobFirst, aliceSecond]) {
        expect(response.headers['x-cache']).to.equal('MISS');
        expect(setCookiesOf(response)).to.have.length(1);
      }
      expect(jsonOf(aliceFirst)).to.include({ account: 1, call: 1 });
      expect(jsonOf(bobFirst)).to.include({ account: 2, call: 2 });
      expect(jsonOf(aliceSecond)).to.include({ account: 1, call: 3 });
      expect(calls.account).to.equal(3);
      expect(store.writes).to.deep.equal([]);
    });
  }
});

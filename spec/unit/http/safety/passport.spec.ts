import { expect } from 'chai';
import type { Express } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { type Cache, responseCache } from '../../../../src/index.js';
import type { ExpressModule } from '../../../support/app-factory.js';
import { createTestCache } from '../http-spec-helpers.js';
import {
  browser,
  type CountedApp,
  cacheFieldAndCall,
  client,
  EXPRESS_MAJORS,
  jsonOf,
  type SpecUser,
  sessionOf,
  setCookiesOf,
  userOf,
} from './safety-helpers.js';

interface StoredUser extends SpecUser {
  password: string;
}

/** Numeric ids, 0 included: it is an id like any other, not "nobody". */
const USERS: readonly StoredUser[] = [
  { id: 1, username: 'alice', password: 'alice-password' },
  { id: 2, username: 'bob', password: 'bob-password' },
  { id: 0, username: 'root', password: 'root-password' },
];

/**
 * An app as the passport guide builds it: express-session, then passport (its own `Passport` instance,
 * so that apps do not share strategies), a local-strategy login, a logout, and `/profile` cached per
 * user with `credentialKey: (req) => req.user?.id`.
 */
function passportApp(express: ExpressModule, cache: Cache): CountedApp {
  const app = express();
  const authenticator = new passport.Passport();
  authenticator.use(
    new LocalStrategy((username, password, done) => {
      const user = USERS.find((candidate) => candidate.username === username);
      if (user === undefined || user.password !== password) {
        done(null, false);
        return;
      }
      done(null, { id: user.id, username: user.username });
    }),
  );
  authenticator.serializeUser<number>((user, done) => done(null, (user as SpecUser).id));
  authenticator.deserializeUser<number>((id, done) => {
    const user = USERS.find((candidate) => candidate.id === id);
    done(null, user === undefined ? false : { id: user.id, username: user.username });
  });

  app.use(session({ secret: 'passport spec secret', resave: false, saveUninitialized: false }));
  app.use(authenticator.initialize());
  app.use(authenticator.session());
  app.use(express.urlencoded({ extended: false }));
  app.post('/login', authenticator.authenticate('local'), (req, res) => {
    res.json({ id: userOf(req)?.id ?? null });
  });
  app.post('/logout', (req, res, next) => {
    req.logout((error) => (error ? next(error) : res.json({ loggedOut: true })));
  });
  // A session without a user: the visitor gets a cookie, and passport finds nobody in it.
  app.post('/visit', (req, res) => {
    const state = sessionOf(req);
    if (state === undefined) throw new Error('no session');
    state.visited = true;
    res.json({ visited: true });
  });
  let calls = 0;
  app.get('/profile', responseCache(cache, { credentialKey: (req) => userOf(req)?.id }), (req, res) => {
    const user = userOf(req);
    calls++;
    res.json(
      user === undefined
        ? { profile: 'anonymous', call: calls }
        : { profile: user.username, id: user.id, call: calls },
    );
  });
  return { app, calls: () => calls };
}

async function logIn(app: Express, user: StoredUser) {
  const agent = await browser(app);
  const login = await agent
    .post('/login')
    .type('form')
    .send({ username: user.username, password: user.password });
  expect(login.status, `${user.username} logs in`).to.equal(200);
  expect(jsonOf(login).id).to.equal(user.id);
  expect(setCookiesOf(login), `${user.username} gets a session cookie`).to.have.length(1);
  return agent;
}

const [alice, bob, root] = USERS as [StoredUser, StoredUser, StoredUser];

describe('responseCache behind passport (local strategy, express-session)', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    describe(major, () => {
      it('caches each user’s /profile under their numeric id and never shows one user another’s', async () => {
        const { cache } = createTestCache();
        const { app, calls } = passportApp(express, cache);
        const aliceAgent = await logIn(app, alice);
        const bobAgent = await logIn(app, bob);

        const aliceFirst = await aliceAgent.get('/profile');
        const bobFirst = await bobAgent.get('/profile');
        const aliceSecond = await aliceAgent.get('/profile');
        const bobSecond = await bobAgent.get('/profile');

        expect(aliceFirst.headers['x-cache']).to.equal('MISS');
        expect(jsonOf(aliceFirst)).to.deep.equal({ profile: 'alice', id: 1, call: 1 });
        expect(bobFirst.headers['x-cache']).to.equal('MISS');
        expect(jsonOf(bobFirst)).to.deep.equal({ profile: 'bob', id: 2, call: 2 });
        expect(aliceSecond.headers['x-cache']).to.equal('HIT');
        expect(jsonOf(aliceSecond)).to.deep.equal({ profile: 'alice', id: 1, call: 1 });
        expect(bobSecond.headers['x-cache']).to.equal('HIT');
        expect(jsonOf(bobSecond)).to.deep.equal({ profile: 'bob', id: 2, call: 2 });
        expect(setCookiesOf(aliceSecond)).to.deep.equal([]);
        expect(calls()).to.equal(2);
      });

      it('keys a user whose id is 0 on their own id: cached for them, never for anyone else', async () => {
        const { cache } = createTestCache();
        const { app, calls } = passportApp(express, cache);
        const rootAgent = await logIn(app, root);
        const aliceAgent = await logIn(app, alice);
        const anonymous = await client(app);

        const rootFirst = await rootAgent.get('/profile');
        const anonymousFirst = await anonymous.get('/profile');
        const aliceFirst = await aliceAgent.get('/profile');
        const rootSecond = await rootAgent.get('/profile');

        expect(jsonOf(rootFirst)).to.deep.equal({ profile: 'root', id: 0, call: 1 });
        expect(jsonOf(anonymousFirst)).to.deep.equal({ profile: 'anonymous', call: 2 });
        expect(jsonOf(aliceFirst)).to.deep.equal({ profile: 'alice', id: 1, call: 3 });
        expect(rootSecond.headers['x-cache']).to.equal('HIT');
        expect(jsonOf(rootSecond)).to.deep.equal({ profile: 'root', id: 0, call: 1 });
        expect(calls()).to.equal(3);
      });

      it('gives anonymous visitors the anonymous profile, whether a user’s profile or theirs was cached first', async () => {
        const { cache } = createTestCache();
        const { app, calls } = passportApp(express, cache);
        const aliceAgent = await logIn(app, alice);
        const anonymous = await client(app);

        const aliceFirst = await aliceAgent.get('/profile');
        const anonymousFirst = await anonymous.get('/profile');
        const anonymousSecond = await anonymous.get('/profile');
        const bobAgent = await logIn(app, bob);
        const bobFirst = await bobAgent.get('/profile');
        const aliceSecond = await aliceAgent.get('/profile');

        expect(jsonOf(aliceFirst)).to.deep.equal({ profile: 'alice', id: 1, call: 1 });
        expect(anonymousFirst.headers['x-cache']).to.equal('MISS');
        expect(jsonOf(anonymousFirst)).to.deep.equal({ profile: 'anonymous', call: 2 });
        expect(anonymousSecond.headers['x-cache']).to.equal('HIT');
        expect(jsonOf(anonymousSecond)).to.deep.equal({ profile: 'anonymous', call: 2 });
        expect(bobFirst.headers['x-cache']).to.equal('MISS');
        expect(jsonOf(bobFirst)).to.deep.equal({ profile: 'bob', id: 2, call: 3 });
        expect(jsonOf(aliceSecond)).to.deep.equal({ profile: 'alice', id: 1, call: 1 });
        expect(calls()).to.equal(3);
      });

      it('sends a visitor with a session cookie but no user past the cache (credentialKey gives undefined)', async () => {
        const { cache, requests } = createTestCache();
        const { app, calls } = passportApp(express, cache);
        const aliceAgent = await logIn(app, alice);
        await aliceAgent.get('/profile');
        await (await client(app)).get('/profile');
        const visitor = await browser(app);
        const visit = await visitor.post('/visit');
        expect(setCookiesOf(visit)).to.have.length(1);
        const failedLogin = await visitor
          .post('/login')
          .type('form')
          .send({ username: 'alice', password: 'wrong' });
        expect(failedLogin.status).to.equal(401);

        const first = await visitor.get('/profile');
        const second = await visitor.get('/profile');

        expect(cacheFieldAndCall([first, second], 'profile')).to.deep.equal([
          ['BYPASS', 'anonymous', 3],
          ['BYPASS', 'anonymous', 4],
        ]);
        expect(calls()).to.equal(4);
        expect(requests.slice(-2).map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal([
          'bypass/cookie',
          'bypass/cookie',
        ]);
      });

      it('sends a user who logged out, still holding a session cookie, past the cache and never their cached profile', async () => {
        const { cache } = createTestCache();
        const { app, calls } = passportApp(express, cache);
        const aliceAgent = await logIn(app, alice);
        await aliceAgent.get('/profile');
        const hit = await aliceAgent.get('/profile');
        expect(hit.headers['x-cache']).to.equal('HIT');

        const logout = await aliceAgent.post('/logout');
        expect(jsonOf(logout)).to.deep.equal({ loggedOut: true });
        const afterLogout = await aliceAgent.get('/profile');

        expect(afterLogout.headers['x-cache']).to.equal('BYPASS');
        expect(jsonOf(afterLogout)).to.deep.equal({ profile: 'anonymous', call: 2 });
        expect(calls()).to.equal(2);

        // Logging in again finds the entry cached for alice.
        const again = await logIn(app, alice);
        const aliceAgain = await again.get('/profile');
        expect(aliceAgain.headers['x-cache']).to.equal('HIT');
        expect(jsonOf(aliceAgain)).to.deep.equal({ profile: 'alice', id: 1, call: 1 });
      });
    });
  }
});

// A session app: express-session before the cache; a public route that anonymous visitors share; a
// per-user route cached once per signed-in user with `credentialKey`, invalidated by a per-user tag;
// a login and a logout route.
import express from 'express';
import { createCache, metricsHandler, responseCache } from 'express-cache-aside';
import session from 'express-session';
import { createClient } from 'redis';

// What this app keeps in a session (TypeScript: declare it once, for `req.session.userId`).
declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

// Stands in for your user database and your real authentication.
const users = new Map([
  ['alice', { name: 'Alice', password: 'alice-password', orders: ['teapot'] }],
  ['bob', { name: 'Bob', password: 'bob-password', orders: ['kettle', 'cups'] }],
]);
const slowly = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 100));

const redis = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const cache = createCache({ redis, prefix: 'sessions:', ttl: 60 });

const app = express();
app.use(express.json());
// The session middleware goes before the cache. `saveUninitialized: false`: a visitor gets a cookie only
// by signing in, so anonymous responses carry no Set-Cookie and can be stored and shared. (In production,
// give express-session a real store, such as connect-redis, and a secret from the environment.)
app.use(
  session({
    secret: process.env.SESSION_SECRET ?? 'example only: set SESSION_SECRET',
    resave: false,
    saveUninitialized: false,
  }),
);

// Public: every anonymous visitor shares one entry. Requests that carry a cookie (signed-in users)
// bypass the cache on this route, since it does not say how a cookie enters the key.
app.get('/catalog', responseCache(cache, { ttl: 60 }), async (_req, res) => {
  res.json(await slowly({ products: ['teapot', 'kettle', 'cups'] }));
});

// Per user: `credentialKey` names whose response this is, so each signed-in user gets entries of their
// own. `undefined` (a cookie that names no user) sends the request past the cache, to the 401 below.
app.get(
  '/me/orders',
  responseCache(cache, {
    ttl: 30,
    credentialKey: (req) => req.session.userId,
    tags: (req) => [`orders:${req.session.userId}`],
  }),
  async (req, res) => {
    const user = req.session.userId === undefined ? undefined : users.get(req.session.userId);
    if (user === undefined) {
      res.status(401).json({ error: 'sign in first: POST /login' });
      return;
    }
    res.json(await slowly({ user: user.name, orders: user.orders }));
  },
);

app.post('/login', (req, res, next) => {
  const { user: id, password }: { user?: unknown; password?: unknown } = req.body ?? {};
  const user = typeof id === 'string' ? users.get(id) : undefined;
  if (typeof id !== 'string' || user === undefined || user.password !== password) {
    res.status(401).json({ error: 'unknown user or wrong password' });
    return;
  }
  // A new session id on sign-in, so that a session id set before it cannot be reused.
  req.session.regenerate((error) => {
    if (error) {
      next(error);
      return;
    }
    req.session.userId = id;
    res.json({ signedIn: user.name });
  });
});

// A change to a user's data drops that user's cached responses, and nobody else's.
app.post('/me/orders', async (req, res) => {
  const { product }: { product?: unknown } = req.body ?? {};
  const user = req.session.userId === undefined ? undefined : users.get(req.session.userId);
  if (user === undefined) {
    res.status(401).json({ error: 'sign in first: POST /login' });
    return;
  }
  if (typeof product !== 'string' || product === '') {
    res.status(400).json({ error: 'send a JSON body with a non-empty "product"' });
    return;
  }
  user.orders.push(product);
  await cache.invalidateTags([`orders:${req.session.userId}`]);
  res.status(201).json({ orders: user.orders });
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((error) => {
    if (error) {
      next(error);
      return;
    }
    res.clearCookie('connect.sid').json({ signedOut: true });
  });
});

app.get('/metrics', metricsHandler());

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  const base = `http://127.0.0.1:${port}`;
  console.log(`listening on ${base}; try:
  curl -i ${base}/catalog              # MISS, then HIT: anonymous visitors share the entry
  curl -c jar -H 'Content-Type: application/json' -d '{"user":"alice","password":"alice-password"}' ${base}/login
  curl -i -b jar ${base}/me/orders     # MISS, then HIT: Alice's own entry
  curl -b jar -H 'Content-Type: application/json' -d '{"product":"tray"}' ${base}/me/orders
  curl -i -b jar ${base}/me/orders     # MISS: the new order invalidated Alice's entries
  curl -i -b jar ${base}/catalog       # BYPASS: this route does not key on the session`);
});

process.once('SIGINT', () => {
  server.close();
  void cache.close().then(() => redis.close());
});

import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { createFixtureApp, type FixtureRoute } from '../../support/app-factory.js';
import { served } from '../../support/served.js';
import { createTestCache, getBytesFrom, getFrom } from './http-spec-helpers.js';

describe('responseCache storage rules', () => {
  const neverStored: { route: FixtureRoute; description: string }[] = [
    { route: 'set-cookie', description: 'a response that sets a cookie' },
    { route: 'private', description: 'a Cache-Control: private response' },
    { route: 'no-store', description: 'a Cache-Control: no-store response' },
    { route: 'server-error', description: 'a 500 response' },
    { route: 'error', description: 'the error handler’s response to a handler error' },
    { route: 'vary-star', description: 'a Vary: * response' },
  ];
  for (const { route, description } of neverStored) {
    it(`never stores ${description}`, async () => {
      const { cache, store } = createTestCache();
      const fixture = createFixtureApp({ cache });
      const first = await getFrom(fixture.app, `/api/${route}`);
      const second = await getFrom(fixture.app, `/api/${route}`);
      expect(first.headers['x-cache']).to.equal('MISS');
      expect(second.headers['x-cache']).to.equal('MISS');
      expect(fixture.calls(route)).to.equal(2);
      expect(store.writes).to.have.length(0);
    });
  }

  it('does not replay one client’s session cookie to another', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const first = await getFrom(fixture.app, '/api/set-cookie');
    const second = await getFrom(fixture.app, '/api/set-cookie');
    expect(first.headers['set-cookie']?.[0]).to.match(/^session=s1;/);
    expect(second.headers['set-cookie']?.[0]).to.match(/^session=s2;/);
  });

  it('never stores Cache-Control: no-cache responses (they would need revalidation)', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/max-age?cc=no-cache');
    expect(store.writes).to.have.length(0);
  });

  it('passes the handler’s error to the error handler untouched', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const response = await getFrom(fixture.app, '/api/error');
    expect(response.status).to.equal(500);
    expect(fixture.errors).to.have.length(1);
    expect(fixture.errors[0]).to.be.instanceOf(Error);
    expect((fixture.errors[0] as Error).message).to.equal('handler failed (call 1)');
  });

  it('stores the statuses the route allows, and only those', async () => {
    const { cache } = createTestCache();
    const app = express();
    let calls = 0;
    app.get('/gone', responseCache(cache, { statuses: [200, 404] }), (_req, res) => {
      res.status(404).json({ call: ++calls });
    });
    app.get('/created', responseCache(cache, { statuses: [200, 404] }), (_req, res) => {
      res.status(201).json({ call: ++calls });
    });
    await getFrom(app, '/gone');
    const gone = await getFrom(app, '/gone');
    await getFrom(app, '/created');
    const created = await getFrom(app, '/created');
    expect(gone.status).to.equal(404);
    expect(gone.headers['x-cache']).to.equal('HIT');
    expect(created.headers['x-cache']).to.equal('MISS');
  });

  it('streams a body over maxBodyBytes to the client whole and does not store it', async () => {
    const { cache, store } = createTestCache();
    const largeBodyBytes = 300 * 1024;
    const fixture = createFixtureApp({ cache, largeBodyBytes, cacheOptions: { maxBodyBytes: 256 * 1024 } });
    const first = await getBytesFrom(fixture.app, '/api/large');
    const second = await getBytesFrom(fixture.app, '/api/large');
    expect((first.body as Buffer).length).to.equal(largeBodyBytes);
    expect((second.body as Buffer).length).to.equal(largeBodyBytes);
    expect(second.headers['x-cache']).to.equal('MISS');
    expect(store.writes).to.have.length(0);
  });

  it('does not store a response whose declared Content-Length is over maxBodyBytes', async () => {
    const { cache, store } = createTestCache();
    const app = express();
    app.get('/sized', responseCache(cache, { maxBodyBytes: 10 }), (_req, res) => res.send('x'.repeat(11)));
    const response = await getFrom(app, '/sized');
    expect(response.text).to.equal('x'.repeat(11));
    expect(store.writes).to.have.length(0);
  });

  it('stores a body of exactly maxBodyBytes', async () => {
    const { cache } = createTestCache();
    const app = express();
    app.get('/sized', responseCache(cache, { maxBodyBytes: 10 }), (_req, res) => res.send('x'.repeat(10)));
    await getFrom(app, '/sized');
    const hit = await getFrom(app, '/sized');
    expect(hit.headers['x-cache']).to.equal('HIT');
    expect(hit.text).to.equal('x'.repeat(10));
  });

  describe('requests with credentials', () => {
    const credentialed: [string, string][] = [
      ['Authorization', 'Bearer alice-token'],
      ['Cookie', 'session=alice'],
    ];
    for (const [header, value] of credentialed) {
      it(`bypasses the cache for requests with ${header} unless the route opts in`, async () => {
        const { cache, store } = createTestCache();
        const fixture = createFixtureApp({ cache });
        const first = await getFrom(fixture.app, '/api/me', { [header]: value });
        const second = await getFrom(fixture.app, '/api/me', { [header]: value });
        expect(first.headers['x-cache']).to.equal('BYPASS');
        expect(second.headers['x-cache']).to.equal('BYPASS');
        expect(fixture.calls('me')).to.equal(2);
        expect(store.writes).to.have.length(0);
      });

      it(`never serves a ${header} request a response stored for an anonymous one`, async () => {
        const { cache } = createTestCache();
        const fixture = createFixtureApp({ cache });
        await getFrom(fixture.app, '/api/me');
        const withCredentials = await getFrom(fixture.app, '/api/me', { [header]: value });
        expect(withCredentials.headers['x-cache']).to.equal('BYPASS');
        expect(withCredentials.body.call).to.equal(2);
      });
    }

    it('keys on the Authorization value when the route names it in varyHeaders', async () => {
      const { cache, store } = createTestCache();
      const fixture = createFixtureApp({ cache, routeOptions: { me: { varyHeaders: ['Authorization'] } } });
      await getFrom(fixture.app, '/api/me', { Authorization: 'Bearer alice' });
      const alice = await getFrom(fixture.app, '/api/me', { Authorization: 'Bearer alice' });
      const bob = await getFrom(fixture.app, '/api/me', { Authorization: 'Bearer bob' });
      const cookie = await getFrom(fixture.app, '/api/me', { Cookie: 'session=carol' });
      expect(alice.headers['x-cache']).to.equal('HIT');
      expect(alice.body.authorization).to.equal('Bearer alice');
      expect(bob.headers['x-cache']).to.equal('MISS');
      expect(bob.body.authorization).to.equal('Bearer bob');
      expect(cookie.headers['x-cache']).to.equal('BYPASS');
      expect(store.writes.map(({ key }) => key).join()).not.to.include('alice');
    });

    it('partitions entries by user with credentialKey, and bypasses when it returns undefined', async () => {
      const { cache } = createTestCache();
      const credentialKey = (req: express.Request) => /session=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
      const fixture = createFixtureApp({ cache, routeOptions: { me: { credentialKey } } });
      await getFrom(fixture.app, '/api/me', { Cookie: 'session=alice' });
      const alice = await getFrom(fixture.app, '/api/me', { Cookie: 'session=alice' });
      const bob = await getFrom(fixture.app, '/api/me', { Cookie: 'session=bob' });
      const unknown = await getFrom(fixture.app, '/api/me', { Cookie: 'theme=dark' });
      const anonymous = await getFrom(fixture.app, '/api/me');
      expect(alice.headers['x-cache']).to.equal('HIT');
      expect(bob.headers['x-cache']).to.equal('MISS');
      expect(bob.body.cookie).to.equal('session=bob');
      expect(unknown.headers['x-cache']).to.equal('BYPASS');
      expect(anonymous.headers['x-cache']).to.equal('MISS');
      expect(anonymous.body.cookie).to.equal(null);
    });

    it('takes a finite number from credentialKey as the user (numeric ids)', async () => {
      const { cache } = createTestCache();
      const userIds: Record<string, number> = { 'session=alice': 1, 'session=bob': 2 };
      const fixture = createFixtureApp({
        cache,
        routeOptions: { me: { credentialKey: (req) => userIds[String(req.headers.cookie)] } },
      });
      const server = await served(fixture.app);
      await request(server).get('/api/me').set('Cookie', 'session=alice');
      const alice = await request(server).get('/api/me').set('Cookie', 'session=alice');
      const bob = await request(server).get('/api/me').set('Cookie', 'session=bob');
      expect([alice.headers['x-cache'], alice.body.cookie]).to.deep.equal(['HIT', 'session=alice']);
      expect([bob.headers['x-cache'], bob.body.cookie]).to.deep.equal(['MISS', 'session=bob']);
    });

    it('bypasses, never a 500, when credentialKey throws or gives something that is no identity', async () => {
      const unusable: (() => unknown)[] = [
        () => '',
        () => Number.NaN,
        () => ({ id: 1 }),
        () => {
          throw new TypeError("Cannot read properties of undefined (reading 'id')");
        },
      ];
      for (const credentialKey of unusable) {
        const { cache, store, requests } = createTestCache();
        const fixture = createFixtureApp({
          cache,
          routeOptions: { me: { credentialKey: credentialKey as () => string } },
        });
        const server = await served(fixture.app);
        const first = await request(server).get('/api/me').set('Cookie', 'session=alice');
        const second = await request(server).get('/api/me').set('Cookie', 'session=alice');
        expect([first.status, first.headers['x-cache'], second.headers['x-cache']]).to.deep.equal([
          200,
          'BYPASS',
          'BYPASS',
        ]);
        expect(store.writes).to.have.length(0);
        expect(requests.map((event) => event.reason)).to.deep.equal(['key-error', 'key-error']);
        expect(fixture.errors).to.have.length(0);
      }
    });
  });

  it('lets the handler answer range requests itself', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/file');
    const partial = await getBytesFrom(fixture.app, '/api/file', { Range: 'bytes=0-9' });
    expect(partial.status).to.equal(206);
    expect(partial.headers['x-cache']).to.equal('BYPASS');
    expect(partial.body).to.have.length(10);
  });
});

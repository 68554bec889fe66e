import type { Server } from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import request from 'supertest';
import { createFixtureApp } from '../../support/app-factory.js';
import { MANY_RUNS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { createTestCache } from './http-spec-helpers.js';

/** One request to the echo route, from its keyed parts. */
interface EchoRequest {
  path: string;
  query: [string, string][];
  language: string | undefined;
  tenant: string | undefined;
}

const headerValue = fc.option(fc.constantFrom('fr', 'de', 'en-GB, en;q=0.8', ''), { nil: undefined });
const echoRequest: fc.Arbitrary<EchoRequest> = fc.record({
  path: fc.constantFrom('/api/echo', '/api/echo/a', '/api/echo/b', '/api/echo/a/b', '/api/echo/%2F'),
  query: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2', 'x y')), {
    maxLength: 3,
  }),
  language: headerValue,
  tenant: fc.option(fc.constantFrom('acme', 'globex'), { nil: undefined }),
});

function urlOf({ path, query }: EchoRequest): string {
  const search = new URLSearchParams(query).toString();
  return search === '' ? path : `${path}?${search}`;
}

/** The query as the key sees it: stable-sorted by name (values of one name keep their order). */
function keyedQuery(query: readonly [string, string][]): [string, string][] {
  return [...query].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

describe('responseCache key isolation (property)', () => {
  let server: Server;
  const { cache } = createTestCache();
  // `x-tenant` is keyed up front; `Accept-Language` through the response's Vary.
  const fixture = createFixtureApp({ cache, routeOptions: { echo: { varyHeaders: ['x-tenant'] } } });

  before(async () => {
    server = fixture.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('never answers a request with a response made for a request that differs in a keyed part', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(echoRequest, { minLength: 2, maxLength: 6 }), async (requests) => {
        for (const echo of requests) {
          let call = request(server).get(urlOf(echo));
          if (echo.language !== undefined) call = call.set('Accept-Language', echo.language);
          if (echo.tenant !== undefined) call = call.set('X-Tenant', echo.tenant);
          const { body } = await call;
          expect(keyedQuery(body.query)).to.deep.equal(keyedQuery(echo.query));
          expect(new URL(body.url, 'http://x').pathname).to.equal(echo.path);
          expect(body.language).to.equal(echo.language ?? null);
          expect(body.tenant).to.equal(echo.tenant ?? null);
        }
      }),
      { numRuns: 40 },
    );
    // The property is not vacuous: equal requests did share entries.
    expect(fixture.calls('echo')).to.be.lessThan(40 * 6);
  }).timeout(MANY_RUNS_TIMEOUT_MS);
});

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { Response } from 'supertest';
import type { CacheOptions } from '../../../src/index.js';
import { type CacheStatusEntry, lastCacheStatus, parseCacheStatus } from '../../support/cache-status.js';
import {
  httpDate,
  RIG_PREFIX,
  type Rig,
  type RigOptions,
  type RouteOptions,
  SETUPS,
  type SetupName,
  startRig,
} from '../../support/caching-rig.js';
import type { OriginProgram, ReplyHeaders } from '../../support/origin-server.js';
import { type RedisClient, useRedisServer } from '../../support/redis-server-fixture.js';

// Conformance of responseCache to the HTTP caching standards, by section: RFC 9111 (freshness, age,
// Cache-Control, Expires), RFC 5861 (stale-while-revalidate, stale-if-error) and RFC 9211
// (Cache-Status). Each case runs twice: behind a real reverse proxy (Express with responseCache in front
// of a node:http proxy to a node:http origin the spec programs), and in-process (the handler sets the
// origin's headers itself). Ages and lifetimes come from the origin's Age, Date and Expires, so that a
// response is old or stale when it arrives; where a lifetime must run out, it is 1 s and the spec waits
// a little longer. The assertions are on causes: requests that reached the origin, and header values.

/** The `Cache-Status` identifier of the rig's caches: their name, by default the prefix without `:`. */
const DEFAULT_CACHE_NAME = RIG_PREFIX.replace(/:+$/, '');
/** Longer than a 1 s lifetime, so that a response fresh for 1 s is stale by then. */
const PAST_ONE_SECOND_MS = 1_100;
/** Longer than the 0.2 s route ttl of the specs without `ttlFromCacheControl`. */
const PAST_ROUTE_TTL_MS = 300;

/** The stale modes of the engine, with a `staleTtl` that would allow stale use. */
const STALE_WHILE_REVALIDATE: Partial<CacheOptions> = { staleTtl: 60 };
const STALE_IF_ERROR: Partial<CacheOptions> = { staleTtl: 60, staleWhileRevalidate: false };

/** The origin answers every request with `headers` (and a numbered body). */
function always(headers: ReplyHeaders): OriginProgram {
  return () => ({ headers });
}

/** The origin answers `headers` with body `v1` first, then `then` to every later request. */
function firstThen(headers: ReplyHeaders, then: 'v2' | 'server error'): OriginProgram {
  return (_request, count) => {
    if (count === 1) return { headers, body: 'v1' };
    return then === 'v2' ? { headers, body: 'v2' } : { status: 500, body: 'origin failed' };
  };
}

/** Our `Cache-Status` member (the last one), which must be there and name `cacheName`. */
function ours(response: Response, cacheName = DEFAULT_CACHE_NAME): CacheStatusEntry {
  const entry = lastCacheStatus(response.headers['cache-status']);
  expect(entry, `a Cache-Status header (X-Cache: ${response.headers['x-cache']})`).to.not.equal(undefined);
  const member = entry as CacheStatusEntry;
  expect(member.cache, 'the cache identifier').to.equal(cacheName);
  return member;
}

function expectWithin(value: unknown, low: number, high: number, what: string): void {
  expect(value, what).to.be.a('number');
  expect(Number.isInteger(value), `${what} is whole seconds`).to.equal(true);
  expect(value as number, what).to.be.within(low, high);
}

function ageOf(response: Response): number {
  expect(response.headers.age, 'an Age header').to.be.a('string');
  return Number(response.headers.age);
}

type StaleMode = 'while revalidating' | 'on error';

/** Each stale mode with the engine options that allow it and how a title says where the stale response goes. */
const STALE_MODES = [
  { mode: 'while revalidating', cache: STALE_WHILE_REVALIDATE, served: 'while revalidating' },
  { mode: 'on error', cache: STALE_IF_ERROR, served: 'on a 5xx' },
] as const;

/**
 * A rule about one response's headers: with them (made when the test runs, so that dates are current)
 * the response is stored and a second request hits, or it is not served fresh. A stored hit's Age or
 * Cache-Status ttl may also have to lie within bounds.
 */
interface StorageCheck {
  rule: string;
  headers: () => ReplyHeaders;
  outcome: 'stored' | 'not served fresh';
  ageWithin?: readonly [number, number];
  ttlWithin?: readonly [number, number];
}

const FRESHNESS_CHECKS: readonly StorageCheck[] = [
  {
    rule: 'RFC 9111 §4.2.1: s-maxage wins over max-age (max-age=0, s-maxage=60 is fresh)',
    headers: () => ({ 'cache-control': 'max-age=0, s-maxage=60' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §4.2.1: s-maxage wins over max-age (s-maxage=0, max-age=60 stores nothing)',
    headers: () => ({ 'cache-control': 's-maxage=0, max-age=60' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.1: a response whose Expires is not after its Date arrives expired and is not served fresh',
    headers: () => ({ date: httpDate(), expires: httpDate(-60) }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §5.3: Expires is ignored when max-age is present',
    headers: () => ({ 'cache-control': 'max-age=60', date: httpDate(), expires: httpDate(-60) }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §5.3: Expires is ignored when s-maxage is present',
    headers: () => ({ 'cache-control': 's-maxage=60', expires: '0' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §5.3: an invalid Expires ("0") means already expired',
    headers: () => ({ date: httpDate(), expires: '0' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §5.3: an Expires that is no HTTP-date means already expired',
    headers: () => ({ date: httpDate(), expires: 'next tuesday' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.1: a max-age that is not an integer makes the response stale',
    headers: () => ({ 'cache-control': 'max-age=ten' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.1: a negative max-age makes the response stale',
    headers: () => ({ 'cache-control': 'max-age=-60' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.1: of two max-age directives the first counts or the response is stale, never the later one',
    headers: () => ({ 'cache-control': 'max-age=0, max-age=60' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §1.2.2: a max-age too large to represent is 2^31 seconds, fresh rather than invalid',
    headers: () => ({ 'cache-control': 'max-age=99999999999999999999' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §5.2: directive names are case-insensitive (MAX-AGE=0 is max-age=0)',
    headers: () => ({ 'cache-control': 'MAX-AGE=0' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §5.2: a quoted-string argument is accepted (s-maxage="60")',
    headers: () => ({ 'cache-control': 's-maxage="60", max-age=0' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §5.2: a comma inside a quoted-string argument does not start a directive',
    headers: () => ({ 'cache-control': 'community="x, s-maxage=0", max-age=60' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §5.2: several Cache-Control field lines are one list (max-age=60, then no-store)',
    headers: () => ({ 'cache-control': ['max-age=60', 'no-store'] }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §5.2.3: unknown extension directives are ignored',
    headers: () => ({ 'cache-control': 'max-age=60, x-unknown-extension, community="UCI"' }),
    outcome: 'stored',
  },
  {
    rule: 'RFC 9111 §4.2.2: without explicit freshness, the route ttl applies',
    headers: () => ({}),
    outcome: 'stored',
  },
];

const AGE_CHECKS: readonly StorageCheck[] = [
  {
    rule: "RFC 9111 §5.1: a hit's Age is the current age, the origin's Age included",
    headers: () => ({ 'cache-control': 'max-age=600', age: '30' }),
    outcome: 'stored',
    ageWithin: [30, 32],
  },
  {
    rule: 'RFC 9111 §4.2.3: the apparent age (now − an old Date) counts',
    headers: () => ({ 'cache-control': 'max-age=600', date: httpDate(-30) }),
    outcome: 'stored',
    ageWithin: [30, 32],
  },
  {
    rule: 'RFC 9111 §4.2: a response whose Age has used up its max-age arrives stale and is not served fresh',
    headers: () => ({ 'cache-control': 'max-age=60', age: '60' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.3: a response whose Date is older than its lifetime arrives stale',
    headers: () => ({ 'cache-control': 'max-age=60', date: httpDate(-120) }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.3: age counts against s-maxage too',
    headers: () => ({ 'cache-control': 's-maxage=60', age: '90' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §4.2.3: age counts against an Expires − Date lifetime too',
    headers: () => ({ date: httpDate(), expires: httpDate(60), age: '90' }),
    outcome: 'not served fresh',
  },
  {
    rule: 'RFC 9111 §5.1: an Age that is not a number is ignored',
    headers: () => ({ 'cache-control': 'max-age=60', age: 'ninety' }),
    outcome: 'stored',
    ageWithin: [0, 2],
  },
  {
    rule: 'RFC 9111 §5.1: a negative Age is ignored',
    headers: () => ({ 'cache-control': 'max-age=60', age: '-90' }),
    outcome: 'stored',
    ageWithin: [0, 2],
  },
  {
    rule: 'RFC 9111 §5.1: of a list-valued Age, the first member counts ("30, 100" is 30)',
    headers: () => ({ 'cache-control': 'max-age=60', age: '30, 100' }),
    outcome: 'stored',
    ageWithin: [30, 32],
  },
  {
    rule: 'RFC 9111 §1.2.2: an Age too large to represent counts as 2^31 seconds: the response is stale',
    headers: () => ({ 'cache-control': 'max-age=60', age: '99999999999999999999' }),
    outcome: 'not served fresh',
  },
];

const CACHE_STATUS_TTL_CHECKS: readonly StorageCheck[] = [
  {
    rule: "RFC 9211 §2.4, RFC 9111 §4.2.3: ttl is the lifetime less the current age, the origin's Age included",
    headers: () => ({ 'cache-control': 'max-age=60', age: '30' }),
    outcome: 'stored',
    ttlWithin: [26, 30],
  },
  {
    rule: 'RFC 9211 §2.4, RFC 9111 §4.2.1: ttl follows s-maxage over max-age',
    headers: () => ({ 'cache-control': 'max-age=600, s-maxage=60' }),
    outcome: 'stored',
    ttlWithin: [55, 60],
  },
  {
    rule: 'RFC 9211 §2.4, RFC 9111 §4.2.1: ttl follows Expires − Date',
    headers: () => ({ date: httpDate(), expires: httpDate(60) }),
    outcome: 'stored',
    ttlWithin: [55, 60],
  },
];

describe('HTTP caching standards: RFC 9111, RFC 5861 and RFC 9211 conformance of responseCache', function () {
  this.timeout(30_000);
  const redisServer = useRedisServer();
  let redis: RedisClient;
  const rigs: Rig[] = [];

  before(async () => {
    redis = await redisServer.connect();
  });
  afterEach(async () => {
    await Promise.all(rigs.splice(0).map((rig) => rig.close()));
    await redis.flushAll();
  });

  async function start(setup: SetupName, options: RigOptions = {}): Promise<Rig> {
    const rig = await startRig(setup, redis, options);
    rigs.push(rig);
    return rig;
  }

  /** GET `path` (default `/resource`) through the rig, with request `headers`. */
  function get(rig: Rig, path = '/resource', headers: Record<string, string> = {}) {
    return rig.client().get(path).set(headers);
  }

  /** A first request, once its load has finished (what it stored is visible), then a second one. */
  async function twice(rig: Rig, path = '/resource'): Promise<[Response, Response]> {
    const first = await get(rig, path);
    await rig.loadsFinished(1);
    const second = await get(rig, path);
    return [first, second];
  }

  /** A first request, once its load has finished and `waitMs` have passed, a second one. */
  async function twiceWithPause(rig: Rig, waitMs: number): Promise<[Response, Response]> {
    const first = await get(rig);
    await rig.loadsFinished(1);
    await sleep(waitMs);
    const second = await get(rig);
    return [first, second];
  }

  /** The response `headers` are stored (the second request is a hit and the origin saw one request). */
  async function expectStored(rig: Rig, headers: ReplyHeaders): Promise<Response> {
    rig.program(always(headers));
    const [, second] = await twice(rig);
    expect([second.headers['x-cache'], rig.originRequests()], 'X-Cache and origin requests').to.deep.equal([
      'HIT',
      1,
    ]);
    return second;
  }

  /** The response `headers` are not served fresh to a later request: it goes to the origin again. */
  async function expectNotServedFresh(rig: Rig, headers: ReplyHeaders): Promise<Response> {
    rig.program(always(headers));
    const [, second] = await twice(rig);
    expect(second.headers['x-cache'], 'X-Cache').to.not.equal('HIT');
    expect(rig.originRequests(), 'origin requests').to.equal(2);
    return second;
  }

  /** The response `program` gives is stored, but a request `waitMs` later misses and goes to the origin again. */
  async function expectExpiredAfter(rig: Rig, program: OriginProgram, waitMs: number): Promise<Response> {
    rig.program(program);
    const [first, again] = await twiceWithPause(rig, waitMs);
    expect([again.headers['x-cache'], rig.originRequests()]).to.deep.equal(['MISS', 2]);
    return first;
  }

  /**
   * The first response carries `headers` and goes stale (after `waitMs`); the second request must not
   * be answered with it: in stale-while-revalidate mode it gets the origin's new response, in
   * stale-if-error mode the origin's server error.
   */
  async function expectNoStaleUse(
    rig: Rig,
    headers: ReplyHeaders,
    mode: StaleMode,
    waitMs: number,
  ): Promise<void> {
    rig.program(firstThen(headers, mode === 'on error' ? 'server error' : 'v2'));
    const [first, second] = await twiceWithPause(rig, waitMs);
    expect(first.text).to.equal('v1');
    expect(second.headers['x-cache'], 'X-Cache').to.not.equal('STALE');
    expect(rig.originRequests(), 'origin requests').to.equal(2);
    if (mode === 'on error') {
      expect([second.status, second.text]).to.deep.equal([500, 'origin failed']);
    } else {
      expect([second.status, second.text]).to.deep.equal([200, 'v2']);
    }
  }

  /** Control: without a directive against it, the stale response is served (so the rig can show stale use). */
  async function expectStaleUse(
    rig: Rig,
    headers: ReplyHeaders,
    mode: StaleMode,
    waitMs: number,
  ): Promise<Response> {
    rig.program(firstThen(headers, mode === 'on error' ? 'server error' : 'v2'));
    const [, second] = await twiceWithPause(rig, waitMs);
    expect([second.headers['x-cache'], second.status, second.text]).to.deep.equal(['STALE', 200, 'v1']);
    return second;
  }

  /** Runs `check`, a table row about one response's headers, against a fresh rig of `setup`. */
  async function checkStorage(setup: SetupName, check: StorageCheck): Promise<void> {
    const rig = await start(setup);
    if (check.outcome === 'not served fresh') {
      await expectNotServedFresh(rig, check.headers());
      return;
    }
    const hit = await expectStored(rig, check.headers());
    if (check.ageWithin) expectWithin(ageOf(hit), ...check.ageWithin, 'Age');
    if (check.ttlWithin) expectWithin(ours(hit).params.get('ttl'), ...check.ttlWithin, 'ttl');
  }

  /**
   * The rules on stale use in both stale modes, for `setup` with `route`: the control (`controlHeaders`
   * go stale after `waitMs` and are served stale) and, for each of `directives`, no stale use.
   */
  function itKeepsTheOriginsWordOnStaleUse(context: {
    setup: SetupName;
    route?: RouteOptions;
    controlHeaders: ReplyHeaders;
    directives: readonly { section: string; cacheControl: string }[];
    waitMs: number;
  }): void {
    const { setup, route, controlHeaders, directives, waitMs } = context;
    for (const { mode, cache, served } of STALE_MODES) {
      it(`RFC 9111 §4.2.4 (control): without a directive against it, staleTtl serves a stale response ${served}`, async () => {
        const rig = await start(setup, { cache, ...(route ? { route } : {}) });
        await expectStaleUse(rig, controlHeaders, mode, waitMs);
      });
    }
    for (const { section, cacheControl } of directives) {
      for (const { mode, cache, served } of STALE_MODES) {
        it(`RFC 9111 ${section}: "${cacheControl}" is not served stale ${served}, whatever staleTtl`, async () => {
          const rig = await start(setup, { cache, ...(route ? { route } : {}) });
          await expectNoStaleUse(rig, { 'cache-control': cacheControl }, mode, waitMs);
        });
      }
    }
  }

  /** Expects our `Cache-Status` member on `response` to carry these `fwd`, `fwd-status` and `detail` params. */
  function expectForwarded(
    response: Response,
    params: { fwd: string; fwdStatus: number; detail?: string },
  ): void {
    const status = ours(response);
    expect(status.params.get('fwd'), 'fwd').to.equal(params.fwd);
    expect(status.params.get('fwd-status'), 'fwd-status').to.equal(params.fwdStatus);
    if (params.detail !== undefined) expect(status.params.get('detail'), 'detail').to.equal(params.detail);
  }

  for (const setup of SETUPS) {
    describe(`${setup}, ttlFromCacheControl: true`, () => {
      describe('RFC 9111 §4.2.1 freshness lifetime, §5.2 Cache-Control, §5.3 Expires', () => {
        for (const check of FRESHNESS_CHECKS) {
          it(check.rule, () => checkStorage(setup, check));
        }

        it('RFC 9111 §4.2.1: max-age gives the lifetime when there is no s-maxage (stale after 1 s, not the route ttl)', async () => {
          await expectExpiredAfter(
            await start(setup),
            always({ 'cache-control': 'max-age=1' }),
            PAST_ONE_SECOND_MS,
          );
        });

        it('RFC 9111 §4.2.1: without max-age or s-maxage, Expires − Date gives the lifetime (stale after 1 s)', async () => {
          const expiresInOneSecond: OriginProgram = () => {
            const now = Date.now();
            return {
              headers: { date: new Date(now).toUTCString(), expires: new Date(now + 1_000).toUTCString() },
            };
          };
          const first = await expectExpiredAfter(await start(setup), expiresInOneSecond, PAST_ONE_SECOND_MS);
          expect(first.headers['x-cache']).to.equal('MISS');
        });

        it("RFC 9111 §4.2.1: Expires counts from the origin's Date, not from this cache's clock (origin clock an hour ahead)", async () => {
          const originClockAhead: OriginProgram = () => ({
            headers: { date: httpDate(3_600), expires: httpDate(3_601) },
          });
          await expectExpiredAfter(await start(setup), originClockAhead, PAST_ONE_SECOND_MS);
        });
      });

      describe('RFC 9111 §4.2.3 current age, §5.1 Age', () => {
        for (const check of AGE_CHECKS) {
          it(check.rule, () => checkStorage(setup, check));
        }

        it("RFC 9111 §4.2.3: the time spent in this cache adds to the origin's Age", async () => {
          const rig = await start(setup);
          rig.program(always({ 'cache-control': 'max-age=600', age: '10' }));
          const [, hit] = await twiceWithPause(rig, PAST_ONE_SECOND_MS);
          expect(hit.headers['x-cache']).to.equal('HIT');
          expectWithin(ageOf(hit), 11, 13, 'Age');
        });
      });

      describe("RFC 9111 §4.2.4, §5.2.2: the origin's word on stale use wins over staleTtl", () => {
        itKeepsTheOriginsWordOnStaleUse({
          setup,
          controlHeaders: { 'cache-control': 'max-age=1' },
          directives: [
            { section: '§5.2.2.2', cacheControl: 'max-age=1, must-revalidate' },
            { section: '§5.2.2.8', cacheControl: 'max-age=1, proxy-revalidate' },
            { section: '§5.2.2.10', cacheControl: 's-maxage=1' },
          ],
          waitMs: PAST_ONE_SECOND_MS,
        });

        it("RFC 9111 §5.2.2.2: must-revalidate wins over the response's own stale-while-revalidate", async () => {
          const rig = await start(setup);
          await expectNoStaleUse(
            rig,
            { 'cache-control': 'max-age=1, must-revalidate, stale-while-revalidate=60' },
            'while revalidating',
            PAST_ONE_SECOND_MS,
          );
        });

        it("RFC 9111 §5.2.2.2: must-revalidate wins over the response's own stale-if-error", async () => {
          const rig = await start(setup, { cache: { staleWhileRevalidate: false } });
          await expectNoStaleUse(
            rig,
            { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60' },
            'on error',
            PAST_ONE_SECOND_MS,
          );
        });
      });

      describe('RFC 5861 stale-while-revalidate and stale-if-error set the stale windows', () => {
        it('RFC 5861 §3: stale-while-revalidate=60 serves the stale response while one background request revalidates (staleTtl 0)', async () => {
          const rig = await start(setup);
          // v2 stays fresh for a minute: with `max-age=1` it could be stale again by the next request
          // (the origin's `Date` has one-second resolution, and the machine may be busy).
          rig.program((_request, count) =>
            count === 1
              ? { headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60' }, body: 'v1' }
              : { headers: { 'cache-control': 'max-age=60' }, body: 'v2' },
          );
          const [, stale] = await twiceWithPause(rig, PAST_ONE_SECOND_MS);
          expect([stale.headers['x-cache'], stale.text]).to.deep.equal(['STALE', 'v1']);
          await rig.originReached(2);
          await rig.loadsFinished(2);
          const refreshed = await get(rig);
          expect([refreshed.headers['x-cache'], refreshed.text]).to.deep.equal(['HIT', 'v2']);
          expect(rig.originRequests(), 'origin requests').to.equal(2);
        });

        it('RFC 5861 §4: stale-if-error=60 serves the stale response when the origin answers 5xx (staleTtl 0)', async () => {
          const rig = await start(setup, { cache: { staleWhileRevalidate: false } });
          await expectStaleUse(
            rig,
            { 'cache-control': 'max-age=1, stale-if-error=60' },
            'on error',
            PAST_ONE_SECOND_MS,
          );
          expect(rig.originRequests(), 'origin requests').to.equal(2);
        });

        it('RFC 5861 §4: stale-if-error alone does not let a stale response be served while revalidating', async () => {
          const rig = await start(setup);
          await expectNoStaleUse(
            rig,
            { 'cache-control': 'max-age=1, stale-if-error=60' },
            'while revalidating',
            PAST_ONE_SECOND_MS,
          );
        });
      });

      describe('RFC 9211 Cache-Status', () => {
        it('RFC 9211 §2.1, §2.4: a hit says hit, with its remaining freshness as ttl, beside X-Cache: HIT', async () => {
          const hit = await expectStored(await start(setup), { 'cache-control': 'max-age=60' });
          const status = ours(hit);
          expect(status.params.get('hit'), 'hit').to.equal(true);
          expect(status.params.has('fwd'), 'no fwd on a hit').to.equal(false);
          expectWithin(status.params.get('ttl'), 55, 60, 'ttl');
        });

        for (const check of CACHE_STATUS_TTL_CHECKS) {
          it(check.rule, () => checkStorage(setup, check));
        }

        it("RFC 9211 §2.2, §2.3: a miss says fwd=uri-miss and the origin's status, beside X-Cache: MISS", async () => {
          const rig = await start(setup);
          rig.program(always({ 'cache-control': 'max-age=60' }));
          const miss = await get(rig);
          expect(miss.headers['x-cache']).to.equal('MISS');
          expectForwarded(miss, { fwd: 'uri-miss', fwdStatus: 200 });
          expect(ours(miss).params.has('hit'), 'no hit on a miss').to.equal(false);
        });

        it('RFC 9211 §2.3, §2.8: fwd-status is the status the origin answered (404, not stored: detail=status)', async () => {
          const rig = await start(setup);
          rig.program(() => ({
            status: 404,
            headers: { 'cache-control': 'max-age=60' },
            body: 'no such thing',
          }));
          const miss = await get(rig);
          expect(miss.status).to.equal(404);
          expectForwarded(miss, { fwd: 'uri-miss', fwdStatus: 404, detail: 'status' });
        });

        it('RFC 9211 §2.2, §2.3, §2.8: a POST says fwd=method, with the status the origin answered', async () => {
          const rig = await start(setup);
          rig.program(() => ({ status: 201, body: 'created' }));
          const created = await rig.client().post('/resource');
          expect([created.status, created.headers['x-cache']]).to.deep.equal([201, 'BYPASS']);
          expectForwarded(created, { fwd: 'method', fwdStatus: 201, detail: 'method' });
        });

        for (const [header, value] of [
          ['cookie', 'session=abc'],
          ['authorization', 'Bearer abc'],
        ] as const) {
          it(`RFC 9211 §2.2, §2.8: a request with ${header} says fwd=request, detail=${header}`, async () => {
            const rig = await start(setup);
            const bypassed = await get(rig, '/resource', { [header]: value });
            expect(bypassed.headers['x-cache']).to.equal('BYPASS');
            expectForwarded(bypassed, { fwd: 'request', fwdStatus: 200, detail: header });
            expect((await rig.requestEvents(1)).map((event) => event.reason)).to.deep.equal([header]);
          });
        }

        it('RFC 9211 §2.2, §2.8: a range request is forwarded (fwd=request or bypass) with detail=range', async () => {
          const rig = await start(setup);
          const bypassed = await get(rig, '/resource', { range: 'bytes=0-3' });
          expect(bypassed.headers['x-cache']).to.equal('BYPASS');
          const status = ours(bypassed);
          expect(status.params.get('fwd'), 'fwd').to.be.oneOf(['request', 'bypass']);
          expect(status.params.get('detail'), 'detail').to.equal('range');
        });

        for (const [reason, headers] of [
          ['set-cookie', { 'set-cookie': 'session=abc; Path=/', 'cache-control': 'max-age=60' }],
          ['no-store', { 'cache-control': 'no-store' }],
          ['private', { 'cache-control': 'private, max-age=60' }],
        ] as const) {
          it(`RFC 9211 §2.8: a miss not stored for ${reason} says detail=${reason}, the request event's reason`, async () => {
            const rig = await start(setup);
            rig.program(always(headers));
            const miss = await get(rig);
            await rig.loadsFinished(1);
            expectForwarded(miss, { fwd: 'uri-miss', fwdStatus: 200, detail: reason });
            expect((await rig.requestEvents(1)).map((event) => event.reason)).to.deep.equal([reason]);
          });
        }

        // The client's own request does not go forward (one background request revalidates): RFC 9211
        // §2.1 calls that a hit, and §2.4 gives a stale response a negative ttl.
        it('RFC 9211 §2.1, §2.4: a stale response served while revalidating is a hit with a negative ttl', async () => {
          const rig = await start(setup, { cache: STALE_WHILE_REVALIDATE });
          const stale = await expectStaleUse(
            rig,
            { 'cache-control': 'max-age=1' },
            'while revalidating',
            PAST_ONE_SECOND_MS,
          );
          const status = ours(stale);
          expect(status.params.get('hit'), 'hit').to.equal(true);
          expect(status.params.has('fwd'), 'fwd').to.equal(false);
          expect(status.params.get('ttl'), 'ttl').to.be.below(0);
        });

        it("RFC 9211 §2.2, §2.3: a stale response served on a 5xx says fwd=stale and the origin's 500 as fwd-status", async () => {
          const rig = await start(setup, { cache: STALE_IF_ERROR });
          const stale = await expectStaleUse(
            rig,
            { 'cache-control': 'max-age=1' },
            'on error',
            PAST_ONE_SECOND_MS,
          );
          expectForwarded(stale, { fwd: 'stale', fwdStatus: 500 });
          expect(ours(stale).params.has('hit'), 'hit').to.equal(false);
        });

        it(`RFC 9211 §2: with no name option, the cache identifier is the cache's default name ("${DEFAULT_CACHE_NAME}", its prefix without ":")`, async () => {
          const rig = await start(setup);
          const miss = await get(rig);
          expect(parseCacheStatus(miss.headers['cache-status']).map((member) => member.cache)).to.deep.equal([
            DEFAULT_CACHE_NAME,
          ]);
        });

        it("RFC 9211 §2: the cache identifier is createCache's name option", async () => {
          const rig = await start(setup, { cache: { name: 'edge-cache' } });
          rig.program(always({ 'cache-control': 'max-age=60' }));
          const [miss, hit] = await twice(rig);
          expect(ours(miss, 'edge-cache').params.get('fwd')).to.equal('uri-miss');
          expect(ours(hit, 'edge-cache').params.get('hit')).to.equal(true);
        });

        it('RFC 9211 §2: an upstream Cache-Status is kept and ours appended after it, on the miss and on the hit (ours once)', async () => {
          const upstream = 'origin-store; fwd=uri-miss; stored';
          const rig = await start(setup);
          rig.program(always({ 'cache-control': 'max-age=60', 'cache-status': upstream }));
          const [miss, hit] = await twice(rig);
          expect(hit.headers['x-cache']).to.equal('HIT');
          for (const response of [miss, hit]) {
            const members = parseCacheStatus(response.headers['cache-status']);
            expect(members.map((member) => member.cache)).to.deep.equal(['origin-store', DEFAULT_CACHE_NAME]);
            expect([...(members[0]?.params.entries() ?? [])]).to.deep.equal([
              ['fwd', 'uri-miss'],
              ['stored', true],
            ]);
          }
          expect(ours(miss).params.get('fwd')).to.equal('uri-miss');
          expect(ours(hit).params.get('hit')).to.equal(true);
        });

        it('RFC 9211 §2.1: a 304 answered from the cache says hit', async () => {
          const rig = await start(setup);
          rig.program(always({ 'cache-control': 'max-age=60', etag: '"v1"' }));
          await get(rig);
          await rig.loadsFinished(1);
          const notModified = await get(rig, '/resource', { 'if-none-match': '"v1"' });
          expect([notModified.status, notModified.headers['x-cache']]).to.deep.equal([304, 'HIT']);
          expect(ours(notModified).params.get('hit')).to.equal(true);
        });

        it('RFC 9211: the route option cacheStatus: false leaves our Cache-Status out (X-Cache stays, an upstream one passes untouched)', async () => {
          const upstream = 'origin-store; hit';
          const route: RouteOptions = { ttlFromCacheControl: true, cacheStatus: false };
          const rig = await start(setup, { route });
          rig.program((_request, count) => {
            const headers: ReplyHeaders = { 'cache-control': 'max-age=60' };
            if (count === 1) headers['cache-status'] = upstream;
            return { headers };
          });
          const [miss, hit] = await twice(rig);
          expect([miss.headers['x-cache'], hit.headers['x-cache']]).to.deep.equal(['MISS', 'HIT']);
          expect(miss.headers['cache-status']).to.equal(upstream);
          expect(hit.headers['cache-status']).to.equal(upstream);
          const plain = await get(rig, '/other');
          expect(plain.headers['x-cache']).to.equal('MISS');
          expect(plain.headers['cache-status']).to.equal(undefined);
        });
      });
    });
  }

  describe('in-process, ttlFromCacheControl: false (the default)', () => {
    const CACHE_CONTROL_OFF: RouteOptions = { ttlFromCacheControl: false };
    /** A route ttl short enough to run out within a spec. */
    const SHORT_ROUTE_TTL: RouteOptions = { ttlFromCacheControl: false, ttl: 0.2 };

    describe('RFC 9111 §5.2.2.10 s-maxage caps the route ttl; max-age and Expires do not count', () => {
      it('RFC 9111 §5.2.2.10: s-maxage=0 stores nothing, whatever the route ttl', async () => {
        const rig = await start('in-process', { route: CACHE_CONTROL_OFF });
        await expectNotServedFresh(rig, { 'cache-control': 's-maxage=0' });
      });

      it('RFC 9111 §5.2.2.10: s-maxage=1 caps the route ttl (300 s) at 1 s', async () => {
        const rig = await start('in-process', { route: CACHE_CONTROL_OFF });
        rig.program(always({ 'cache-control': 's-maxage=1' }));
        const [, hit] = await twice(rig);
        expect(hit.headers['x-cache']).to.equal('HIT');
        await sleep(PAST_ONE_SECOND_MS);
        const again = await get(rig);
        expect([again.headers['x-cache'], rig.originRequests()]).to.deep.equal(['MISS', 2]);
      });

      it('RFC 9211 §2.4, RFC 9111 §5.2.2.10: the capped lifetime shows as ttl (s-maxage=5 under a 300 s route ttl)', async () => {
        const rig = await start('in-process', { route: CACHE_CONTROL_OFF });
        const hit = await expectStored(rig, { 'cache-control': 's-maxage=5' });
        expectWithin(ours(hit).params.get('ttl'), 3, 5, 'ttl');
      });

      it('RFC 9111 §5.2.2.10: s-maxage never extends the route ttl (0.2 s with s-maxage=60)', async () => {
        const rig = await start('in-process', { route: SHORT_ROUTE_TTL });
        await expectExpiredAfter(rig, always({ 'cache-control': 's-maxage=60' }), PAST_ROUTE_TTL_MS);
      });

      it('RFC 9111 §5.2.2.1: max-age, sent for browsers, does not count (max-age=0 is still stored)', async () => {
        const rig = await start('in-process', { route: CACHE_CONTROL_OFF });
        await expectStored(rig, { 'cache-control': 'max-age=0' });
      });

      it('RFC 9111 §5.3: Expires, sent for browsers, does not count (an expired or invalid Expires is still stored)', async () => {
        const rig = await start('in-process', { route: CACHE_CONTROL_OFF });
        await expectStored(rig, { date: httpDate(), expires: '0' });
      });
    });

    describe("RFC 9111 §4.2.4, §5.2.2: the origin's word on stale use wins over staleTtl", () => {
      itKeepsTheOriginsWordOnStaleUse({
        setup: 'in-process',
        route: SHORT_ROUTE_TTL,
        controlHeaders: {},
        directives: [
          { section: '§5.2.2.2', cacheControl: 'must-revalidate' },
          { section: '§5.2.2.8', cacheControl: 'proxy-revalidate' },
          { section: '§5.2.2.10', cacheControl: 's-maxage=60' },
        ],
        waitMs: PAST_ROUTE_TTL_MS,
      });
    });
  });

  /**
   * An origin whose representation is `"v1"` and fresh for 1 s: it answers a matching `If-None-Match`
   * with 304 (and `notModifiedHeaders`), anything else with 200 and the body `v1`.
   */
  function conditionalOrigin(notModifiedHeaders: ReplyHeaders = {}): OriginProgram {
    const headers = { etag: '"v1"', 'cache-control': 'max-age=1' };
    return (request) =>
      request.headers['if-none-match'] === '"v1"'
        ? { status: 304, headers: { ...headers, ...notModifiedHeaders } }
        : { status: 200, headers, body: 'v1' };
  }

  for (const setup of SETUPS) {
    describe(`${setup}: RFC 9111 §4.3 validation`, () => {
      it('RFC 9111 §4.3.1, §4.3.4: a stale entry is revalidated in the background with If-None-Match; the 304 makes it fresh again', async () => {
        const rig = await start(setup, { cache: STALE_WHILE_REVALIDATE });
        // The 304 gives a minute of freshness (§4.3.4: its headers update the stored ones): the next
        // request finds the entry fresh however slowly it comes. With the 200's `max-age=1`, the
        // second-granular `Date` of the 304 could leave the entry only milliseconds of freshness.
        rig.program(conditionalOrigin({ 'cache-control': 'max-age=60' }));
        const [, stale] = await twiceWithPause(rig, PAST_ONE_SECOND_MS);
        expect([stale.headers['x-cache'], stale.text]).to.deep.equal(['STALE', 'v1']);
        await rig.originReached(2);
        await rig.loadsFinished(2);
        const hit = await get(rig);
        expect([hit.headers['x-cache'], hit.status, hit.text]).to.deep.equal(['HIT', 200, 'v1']);
        expect(rig.originRequests(), 'the origin answered the revalidation only').to.equal(2);
      });

      it("RFC 9111 §4.3.4, RFC 9211 §2.2: with stale-if-error, the client's request revalidates: a 304 gives it the stored 200", async () => {
        const rig = await start(setup, { cache: STALE_IF_ERROR });
        rig.program(conditionalOrigin());
        const [, revalidated] = await twiceWithPause(rig, PAST_ONE_SECOND_MS);
        expect([revalidated.status, revalidated.headers['x-cache'], revalidated.text]).to.deep.equal([
          200,
          'HIT',
          'v1',
        ]);
        const status = ours(revalidated);
        expect([status.params.get('fwd'), status.params.get('fwd-status')]).to.deep.equal(['stale', 304]);
        expect(rig.originRequests()).to.equal(2);
      });

      it("RFC 9111 §4.3.4: the 304's Cache-Control replaces the stored one, and with it the freshness", async () => {
        const rig = await start(setup, { cache: STALE_WHILE_REVALIDATE });
        rig.program(conditionalOrigin({ 'cache-control': 'max-age=600' }));
        await twiceWithPause(rig, PAST_ONE_SECOND_MS);
        await rig.loadsFinished(2);
        const hit = await get(rig);
        expect([hit.headers['x-cache'], hit.headers['cache-control']]).to.deep.equal(['HIT', 'max-age=600']);
        expectWithin(ours(hit).params.get('ttl'), 590, 600, 'ttl after the 304');
      });
    });
  }
});

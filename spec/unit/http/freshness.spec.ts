import { expect } from 'chai';
import {
  type FreshnessHeaders,
  type FreshnessPolicy,
  responseFreshness,
} from '../../../src/http/freshness.js';

const NOW = Date.parse('Tue, 01 Dec 2026 12:00:00 GMT');
const ROUTE: FreshnessPolicy = { fromCacheControl: false, routeTtlSeconds: 60, staleWhileRevalidate: true };
const FROM_HEADERS: FreshnessPolicy = { ...ROUTE, fromCacheControl: true };
const httpDate = (offsetSeconds: number) => new Date(NOW + offsetSeconds * 1000).toUTCString();

/** Freshness of a response with `headers`, received at NOW for a request sent at NOW (no delay). */
function freshness(headers: Partial<FreshnessHeaders>, policy = FROM_HEADERS) {
  const all: FreshnessHeaders = {
    cacheControl: undefined,
    expires: undefined,
    date: undefined,
    age: undefined,
  };
  return responseFreshness({ ...all, ...headers }, policy, NOW, NOW);
}

describe('response freshness (RFC 9111 §4.2)', () => {
  describe('lifetime, with ttlFromCacheControl (§4.2.1)', () => {
    it('takes s-maxage over max-age, max-age over Expires, Expires − Date over the route ttl', () => {
      const headers = { cacheControl: 'max-age=30, s-maxage=10', expires: httpDate(600), date: httpDate(0) };
      expect(freshness(headers).lifetimeSeconds).to.equal(10);
      expect(freshness({ ...headers, cacheControl: 'max-age=30' }).lifetimeSeconds).to.equal(30);
      expect(freshness({ ...headers, cacheControl: 'public' }).lifetimeSeconds).to.equal(600);
      expect(freshness({ cacheControl: 'public' }).lifetimeSeconds).to.equal(60);
    });

    it('measures Expires from the response Date, or from its arrival without one', () => {
      expect(freshness({ expires: httpDate(100), date: httpDate(-50) }).lifetimeSeconds).to.equal(150);
      expect(freshness({ expires: httpDate(100) }).lifetimeSeconds).to.equal(100);
    });

    it('treats an invalid or past Expires, and an invalid max-age, as already expired (§5.3, §4.2.1)', () => {
      expect(freshness({ expires: '0' }).lifetimeSeconds).to.equal(0);
      expect(freshness({ expires: 'yesterday' }).lifetimeSeconds).to.equal(0);
      expect(freshness({ expires: httpDate(-10), date: httpDate(0) }).lifetimeSeconds).to.equal(0);
      expect(freshness({ cacheControl: 'max-age=-1' }).lifetimeSeconds).to.equal(0);
      expect(freshness({ cacheControl: 'max-age=1.5' }).lifetimeSeconds).to.equal(0);
    });
  });

  describe('age (§4.2.3)', () => {
    it("counts the origin's Age, and the time the response took to arrive", () => {
      const arrived = responseFreshness(
        { cacheControl: 'max-age=3600', expires: undefined, date: undefined, age: '100' },
        FROM_HEADERS,
        NOW - 2_000,
        NOW,
      );
      expect(arrived.initialAgeSeconds).to.equal(102);
      expect(arrived.lifetimeSeconds).to.equal(3600);
    });

    it('takes the apparent age from Date when it is larger', () => {
      expect(
        freshness({ cacheControl: 'max-age=3600', date: httpDate(-300), age: '10' }).initialAgeSeconds,
      ).to.equal(300);
    });

    it('ignores an Age that is not a non-negative integer, and takes the first of a list (§5.1)', () => {
      for (const age of ['-5', 'ten', '1.5']) {
        expect(freshness({ cacheControl: 'max-age=60', age }).initialAgeSeconds, String(age)).to.equal(0);
      }
      expect(freshness({ cacheControl: 'max-age=60', age: '30, 100' }).initialAgeSeconds).to.equal(30);
      expect(freshness({ cacheControl: 'max-age=60', age: ['30', '100'] }).initialAgeSeconds).to.equal(30);
    });

    it('counts a delta-seconds too large to represent as 2^31 (§1.2.2)', () => {
      expect(freshness({ cacheControl: 'max-age=99999999999999999999' }).lifetimeSeconds).to.equal(2 ** 31);
    });

    it('does not serve as fresh a response that arrives already stale', () => {
      expect(freshness({ cacheControl: 'max-age=3600', age: '7200' }).lifetimeSeconds).to.equal(0);
      expect(freshness({ cacheControl: 'max-age=3600', age: '600' }).lifetimeSeconds).to.equal(3600);
    });
  });

  describe("the route's own ttl (ttlFromCacheControl off)", () => {
    it('runs from storage, whatever the Age, and ignores max-age and Expires', () => {
      const aged = freshness({ cacheControl: 'max-age=5', expires: httpDate(5), age: '100' }, ROUTE);
      expect(aged.lifetimeSeconds - aged.initialAgeSeconds).to.equal(60);
    });

    it('is capped by s-maxage, and s-maxage=0 stores nothing (§5.2.2.10)', () => {
      expect(freshness({ cacheControl: 's-maxage=10' }, ROUTE).lifetimeSeconds).to.equal(10);
      expect(freshness({ cacheControl: 's-maxage=600' }, ROUTE).lifetimeSeconds).to.equal(60);
      expect(freshness({ cacheControl: 's-maxage=0' }, ROUTE).lifetimeSeconds).to.equal(0);
    });
  });

  describe('stale use', () => {
    it('allows none after must-revalidate, proxy-revalidate or s-maxage, in every mode (§5.2.2.2, §5.2.2.8, §5.2.2.10)', () => {
      for (const policy of [ROUTE, FROM_HEADERS]) {
        for (const cacheControl of [
          'must-revalidate',
          'proxy-revalidate',
          's-maxage=30',
          'max-age=30, must-revalidate',
        ]) {
          expect(freshness({ cacheControl }, policy).staleTtlSeconds, cacheControl).to.equal(0);
        }
        expect(freshness({ cacheControl: 'max-age=30' }, policy).staleTtlSeconds).to.equal(undefined);
      }
    });

    it("takes RFC 5861's window for the way the cache serves stale entries, with ttlFromCacheControl", () => {
      const cacheControl = 'max-age=30, stale-while-revalidate=5, stale-if-error=600';
      expect(freshness({ cacheControl }).staleTtlSeconds).to.equal(5);
      expect(
        freshness({ cacheControl }, { ...FROM_HEADERS, staleWhileRevalidate: false }).staleTtlSeconds,
      ).to.equal(600);
      expect(freshness({ cacheControl }, ROUTE).staleTtlSeconds).to.equal(undefined);
    });
  });
});

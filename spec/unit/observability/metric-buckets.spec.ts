import { expect } from 'chai';
import { resolveMetricsBuckets } from '../../../src/observability/metric-buckets.js';

/** The largest ratio between neighbouring bounds from `fromSeconds` to `toSeconds`. */
function largestStep(bounds: readonly number[], fromSeconds: number, toSeconds: number): number {
  const inRange = bounds.filter((bound) => bound >= fromSeconds && bound <= toSeconds);
  return Math.max(...inRange.slice(1).map((bound, index) => bound / (inRange[index] as number)));
}

describe('default histogram buckets', () => {
  const defaults = resolveMetricsBuckets(undefined);

  it('step by at most 17 % for loads (1 ms to 10 s) and Redis calls (50 µs to 100 ms)', () => {
    expect(largestStep(defaults.load, 0.001, 10)).to.be.at.most(1.17);
    expect(defaults.load[0]).to.equal(0.001);
    expect(defaults.load.at(-1)).to.equal(10);
    expect(largestStep(defaults.redis, 0.00005, 0.1)).to.be.at.most(1.17);
    expect([defaults.redis[0], defaults.redis.at(-1)]).to.deep.equal([0.00005, 1]);
  });

  it('step by at most 25 % for requests from 0.5 ms to 1 s, the request histogram having many series', () => {
    expect(largestStep(defaults.request, 0.0005, 1)).to.be.at.most(1.25);
    expect([defaults.request[0], defaults.request.at(-1)]).to.deep.equal([0.0005, 10]);
  });

  it('read as written, without floating-point noise in the le label', () => {
    for (const bound of [...defaults.request, ...defaults.load, ...defaults.redis]) {
      // Two or three significant digits, and the label Prometheus gets reads the same.
      expect(Number(bound.toPrecision(3)), String(bound)).to.equal(bound);
      expect(String(bound), String(bound)).to.not.match(/e/);
    }
  });

  it('keep the defaults of the families not given, and copy the lists given', () => {
    const load = [0.5, 1, 2];
    const resolved = resolveMetricsBuckets({ load });
    load.push(3);
    expect(resolved.load).to.deep.equal([0.5, 1, 2]);
    expect(resolved.request).to.deep.equal(defaults.request);
    expect(resolved.redis).to.deep.equal(defaults.redis);
  });
});

import { expect } from 'chai';
import { prefersOpenMetrics } from '../../../src/observability/prefers-open-metrics.js';

describe('prefersOpenMetrics', () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/plain; version=0.0.4', false],
    ['application/openmetrics-text', true],
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', true],
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      true,
    ],
    ['text/plain, application/openmetrics-text;q=0.5', false],
    ['text/plain;q=0.5, Application/OpenMetrics-Text;q=0.9', true],
    ['application/openmetrics-text;q=0', false],
    ['application/openmetrics-text;q=abc, text/plain;q=0.1', false],
    ['application/openmetrics-text;q=0.5, text/*;q=0.5', true],
  ];

  for (const [accept, expected] of cases) {
    it(`${expected ? 'chooses' : 'declines'} OpenMetrics for Accept: ${JSON.stringify(accept)}`, () => {
      expect(prefersOpenMetrics(accept)).to.equal(expected);
    });
  }
});

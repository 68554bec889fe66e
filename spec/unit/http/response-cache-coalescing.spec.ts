import { expect } from 'chai';
import request from 'supertest';
import { createFixtureApp, type FixtureAppOptions } from '../../support/app-factory.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

describe('responseCache request coalescing', () => {
  /**
   * Sends `count` GETs for the slow fixture route while its handler is held, waits until one runs it
   * and the others joined it, then lets the handler answer.
   */
  async function concurrentSlowGets(count: number, routeOptions: FixtureAppOptions['routeOptions'] = {}) {
    const { cache, requests } = createTestCache();
    let joined = 0;
    cache.events.on('coalesced', () => joined++);
    const fixture = createFixtureApp({ cache, routeOptions });
    fixture.slowGate.close();
    const server = await served(fixture.app);
    const pending = Array.from({ length: count }, () =>
      request(server)
        .get('/api/slow')
        .then((response) => response),
    );
    await eventually(() => fixture.calls('slow') === 1 && joined === count - 1);
    fixture.slowGate.open();
    return { fixture, requests, responses: await Promise.all(pending) };
  }

  it('runs the handler once for concurrent requests of a cold key and gives all of them its response', async () => {
    const { fixture, requests, responses } = await concurrentSlowGets(5);
    expect(fixture.calls('slow')).to.equal(1);
    expect(responses.map((response) => response.body)).to.deep.equal(
      Array.from({ length: 5 }, () => ({ slow: true, call: 1 })),
    );
    expect(responses.map((response) => response.headers['x-cache'])).to.deep.equal(Array(5).fill('MISS'));
    expect(requests.filter((event) => event.reason === 'coalesced')).to.have.length(4);
    expect((await request(await served(fixture.app)).get('/api/slow')).headers['x-cache']).to.equal('HIT');
  });

  it('lets waiting requests run the handler themselves when the response may not be stored', async () => {
    const { fixture, requests, responses } = await concurrentSlowGets(3, { slow: { ttl: 0 } });
    expect(fixture.calls('slow')).to.equal(3);
    expect(responses.map((response) => response.body.call).sort()).to.deep.equal([1, 2, 3]);
    expect(requests.filter((event) => event.reason === 'uncacheable')).to.have.length(2);
  });

  it('answers a HEAD request that arrives during the GET load from the GET response', async () => {
    const { cache } = createTestCache();
    let joined = 0;
    cache.events.on('coalesced', () => joined++);
    const fixture = createFixtureApp({ cache });
    fixture.slowGate.close();
    const get = request(await served(fixture.app))
      .get('/api/slow')
      .then((response) => response);
    await eventually(() => fixture.calls('slow') === 1);
    const head = request(await served(fixture.app))
      .head('/api/slow')
      .then((response) => response);
    await eventually(() => joined === 1);
    fixture.slowGate.open();
    const [getResponse, headResponse] = await Promise.all([get, head]);
    expect(headResponse.status).to.equal(200);
    expect(headResponse.headers['content-length']).to.equal(getResponse.headers['content-length']);
    expect(fixture.calls('slow')).to.equal(1);
  });
});

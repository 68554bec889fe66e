import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { createFixtureApp, type FixtureAppOptions } from '../../support/app-factory.js';
import { deferred } from '../../support/deferred.js';
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

  it('lets waiting requests run the handler themselves when the shared load answered with a server error', async () => {
    const { cache, requests } = createTestCache();
    let joined = 0;
    let runs = 0;
    cache.events.on('coalesced', () => joined++);
    const failedLoads: unknown[] = [];
    cache.events.on('load', ({ failed, error }) => failed && failedLoads.push(error));
    const gate = deferred<void>();
    const app = express();
    app.get('/api/flaky', responseCache(cache), async (_req, res) => {
      const run = ++runs;
      await gate.promise;
      res.status(503).json({ run });
    });
    const server = await served(app);
    const pending = Array.from({ length: 3 }, () =>
      request(server)
        .get('/api/flaky')
        .then((response) => response),
    );
    await eventually(() => runs === 1 && joined === 2);
    gate.resolve();
    const responses = await Promise.all(pending);

    expect(responses.map((response) => response.status)).to.deep.equal([503, 503, 503]);
    expect(runs).to.equal(3);
    expect(requests.map((event) => event.reason).sort()).to.deep.equal([
      'status',
      'uncacheable',
      'uncacheable',
    ]);
    // One load ran (the leader's): the others ran the handler outside the engine.
    expect(failedLoads).to.have.lengthOf(1);
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

import type { Server } from 'node:http';
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import sinon from 'sinon';
import request from 'supertest';
import {
  type Cache,
  type CacheOptions,
  createCache,
  isBackgroundRefresh,
  MemoryStore,
  responseCache,
} from '../../../src/index.js';
import { Gate } from '../../support/app-factory.js';
import { eventually } from '../../support/eventually.js';
import { served } from '../../support/served.js';
import { silentLogger } from '../../support/silent-logger.js';

/** What the handler answers. Only `storable` may be shared; each of the others is for its own request. */
type Outcome = 'storable' | 'no-store' | 'set-cookie' | 'server-error' | 'thrown' | 'too-large';
const OUTCOMES: readonly Outcome[] = [
  'storable',
  'no-store',
  'set-cookie',
  'server-error',
  'thrown',
  'too-large',
];

const MAX_BODY_BYTES = 1024;

/**
 * One app (an instance) with one cached route, whose handler answers `outcome`, waits at `gate`, and
 * counts its runs: per client request (each request names itself in `X-Client`) and for background
 * refreshes, which are no client's request.
 */
class Instance {
  outcome: Outcome = 'storable';
  readonly gate = new Gate();
  readonly runsFor = new Map<string, number>();
  refreshRuns = 0;
  readonly app = express();

  constructor(readonly cache: Cache) {
    this.app.get(
      '/x',
      responseCache(cache, { maxBodyBytes: MAX_BODY_BYTES }),
      async (req: Request, res: Response, next: NextFunction) => {
        if (isBackgroundRefresh(req)) this.refreshRuns++;
        else
          this.runsFor.set(
            String(req.get('x-client')),
            (this.runsFor.get(String(req.get('x-client'))) ?? 0) + 1,
          );
        const run = this.totalRuns();
        await this.gate.wait();
        switch (this.outcome) {
          case 'storable':
            res.json({ run });
            return;
          case 'no-store':
            res.set('Cache-Control', 'no-store').json({ run });
            return;
          case 'set-cookie':
            res.cookie('session', String(run)).json({ run });
            return;
          case 'server-error':
            res.status(503).json({ run });
            return;
          case 'thrown':
            next(new Error(`failed in run ${run}`));
            return;
          case 'too-large':
            res.json({ run, padding: 'x'.repeat(MAX_BODY_BYTES) });
        }
      },
    );
    this.app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ error: error.message });
    });
  }

  totalRuns(): number {
    return [...this.runsFor.values()].reduce((sum, runs) => sum + runs, 0) + this.refreshRuns;
  }

  /** Runs of the handler on behalf of each client request, in the order the clients are named. */
  runsOf(clients: readonly string[]): number[] {
    return clients.map((client) => this.runsFor.get(client) ?? 0);
  }
}

function cacheOver(store: MemoryStore, options: Partial<CacheOptions> = {}): Cache {
  return createCache({ store, registry: false, logger: silentLogger, ...options });
}

/** A client's GET, for one public host whichever instance answers, as behind a load balancer. */
function get(server: Server, client: string) {
  return request(server).get('/x').set('Host', 'shop.example').set('X-Client', client);
}

describe('One client request, one handler run', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  /** An instance whose entry was stored (1 s fresh, 60 s stale) and is now stale. */
  async function staleInstance(options: Partial<CacheOptions>) {
    const cache = cacheOver(new MemoryStore(), { ttl: 1, staleTtl: 60, ...options });
    const instance = new Instance(cache);
    const server = await served(instance.app);
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    await get(server, 'warm');
    clock.tick(1_500);
    return { cache, instance, server };
  }

  for (const outcome of OUTCOMES) {
    describe(`when the handler's response is ${outcome}`, () => {
      it('a fresh miss: one run', async () => {
        const instance = new Instance(cacheOver(new MemoryStore()));
        instance.outcome = outcome;
        await get(await served(instance.app), 'a');
        expect(instance.runsOf(['a'])).to.deep.equal([1]);
      });

      it('concurrent requests in one process: one run for all when it may be shared, else one each', async () => {
        const cache = cacheOver(new MemoryStore());
        const instance = new Instance(cache);
        instance.outcome = outcome;
        let joined = 0;
        cache.events.on('coalesced', () => joined++);
        const server = await served(instance.app);
        instance.gate.close();
        const clients = ['a', 'b', 'c'];
        const responses = clients.map((client) => get(server, client).then((response) => response));
        await eventually(() => instance.totalRuns() === 1 && joined === 2);
        instance.gate.open();
        const answers = await Promise.all(responses);
        const shared = outcome === 'storable';
        expect(instance.totalRuns()).to.equal(shared ? 1 : 3);
        expect(Math.max(...instance.runsOf(clients))).to.equal(1);
        if (shared) {
          expect(answers.map((answer) => answer.body.run)).to.deep.equal([1, 1, 1]);
        } else if (outcome !== 'thrown') {
          // A response that may not be shared reaches only the request it was made for.
          expect(new Set(answers.map((answer) => answer.body.run)).size).to.equal(3);
        }
      });

      it('requests on two instances: one run across both when it may be shared, else one each', async () => {
        const store = new MemoryStore();
        const lockAttempts = sinon.spy(store, 'acquireLockAndGet');
        const first = new Instance(cacheOver(store, { lockPollMs: 5 }));
        const second = new Instance(cacheOver(store, { lockPollMs: 5 }));
        first.outcome = outcome;
        second.outcome = outcome;
        first.gate.close();
        const answerA = get(await served(first.app), 'a').then((response) => response);
        await eventually(() => first.totalRuns() === 1);
        const answerB = get(await served(second.app), 'b').then((response) => response);
        await eventually(() => lockAttempts.callCount >= 2);
        first.gate.open();
        await Promise.all([answerA, answerB]);
        const shared = outcome === 'storable';
        expect([first.runsOf(['a'])[0], second.runsOf(['b'])[0]]).to.deep.equal([1, shared ? 0 : 1]);
      });

      it('stale-while-revalidate: no run on behalf of the client, one background refresh', async () => {
        const { cache, instance, server } = await staleInstance({});
        instance.outcome = outcome;
        const stale = await get(server, 'a');
        expect(stale.headers['x-cache']).to.equal('STALE');
        await eventually(() => instance.refreshRuns === 1);
        await cache.close();
        expect([instance.runsOf(['a'])[0], instance.refreshRuns]).to.deep.equal([0, 1]);
      });

      for (const loadTimeoutMs of [0, 5_000]) {
        it(`stale-if-error (loadTimeoutMs ${loadTimeoutMs}): one run, and the client gets it or the stale entry`, async () => {
          const { instance, server } = await staleInstance({
            staleWhileRevalidate: false,
            loadTimeoutMs,
          });
          instance.outcome = outcome;
          const answer = await get(server, 'a');
          expect(instance.runsOf(['a'])).to.deep.equal([1]);
          expect(instance.refreshRuns).to.equal(0);
          const failed = outcome === 'server-error' || outcome === 'thrown';
          // RFC 5861 §4: a server error is answered from the stale entry; anything else is the client's own.
          expect([answer.status, answer.headers['x-cache'], answer.body.run]).to.deep.equal(
            failed ? [200, 'STALE', 1] : [200, 'MISS', 2],
          );
          expect(answer.headers['set-cookie'] !== undefined).to.equal(outcome === 'set-cookie');
        });
      }
    });
  }

  it('stale-if-error with a handler slower than loadTimeoutMs: one run, and the stale entry answers', async () => {
    const { cache, instance, server } = await staleInstance({
      staleWhileRevalidate: false,
      loadTimeoutMs: 20,
    });
    instance.gate.close();
    const answer = await get(server, 'a');
    expect([answer.headers['x-cache'], answer.body.run]).to.deep.equal(['STALE', 1]);
    instance.gate.open();
    await cache.close();
    expect(instance.runsOf(['a'])).to.deep.equal([1]);
  });

  it('stale-if-error: a server error with no stale entry to answer reaches its client as the handler made it', async () => {
    const cache = cacheOver(new MemoryStore(), { staleWhileRevalidate: false, staleTtl: 60 });
    const instance = new Instance(cache);
    instance.outcome = 'server-error';
    const answer = await get(await served(instance.app), 'a');
    expect([answer.status, answer.body.run, instance.runsOf(['a'])[0]]).to.deep.equal([503, 1, 1]);
  });
});

import { expect } from 'chai';
import sinon from 'sinon';
import { InvalidationQueue, type QueuedInvalidation } from '../../../src/engine/invalidation-queue.js';
import { type CacheEventMap, CacheEvents, type InvalidationKind } from '../../../src/events.js';
import { deferred } from '../../support/deferred.js';

const CONFIG = { maxSize: 3, maxAgeMs: 10_000, replayIntervalMs: 100 };

/** A store that is down until `up` is set: replays reject while it is down, and are recorded. */
class ReplayLog {
  up = false;
  readonly attempts: string[] = [];
  readonly replayed: string[] = [];

  invalidation(id: string, kind: InvalidationKind = 'tag'): QueuedInvalidation {
    return {
      id,
      kind,
      replay: async () => {
        this.attempts.push(id);
        if (!this.up) throw new Error('store down');
        this.replayed.push(id);
      },
    };
  }
}

type QueueEvent = 'invalidation-queued' | 'invalidation-replayed' | 'invalidation-dropped';

function recordEvents(events: CacheEvents) {
  const seen: { event: QueueEvent; payload: CacheEventMap[QueueEvent][0] }[] = [];
  for (const event of ['invalidation-queued', 'invalidation-replayed', 'invalidation-dropped'] as const) {
    events.on(event, (payload: CacheEventMap[QueueEvent][0]) => seen.push({ event, payload }));
  }
  return seen;
}

describe('InvalidationQueue', () => {
  let clock: sinon.SinonFakeTimers;
  let events: CacheEvents;
  let queue: InvalidationQueue;
  let store: ReplayLog;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    events = new CacheEvents();
    queue = new InvalidationQueue(CONFIG, events);
    store = new ReplayLog();
  });

  afterEach(async () => {
    await queue.close();
    clock.restore();
  });

  it('replays what it holds in the order it was queued, each once, when the store answers again', async () => {
    const seen = recordEvents(events);
    for (const id of ['a', 'b', 'c']) expect(queue.enqueue(store.invalidation(id))).to.equal(true);
    expect(queue.pending).to.equal(true);
    store.up = true;
    await clock.tickAsync(CONFIG.replayIntervalMs);
    expect(store.replayed).to.deep.equal(['a', 'b', 'c']);
    expect(queue.pending).to.equal(false);
    expect(seen.map(({ event, payload }) => [event, payload.queueSize])).to.deep.equal([
      ['invalidation-queued', 1],
      ['invalidation-queued', 2],
      ['invalidation-queued', 3],
      ['invalidation-replayed', 2],
      ['invalidation-replayed', 1],
      ['invalidation-replayed', 0],
    ]);
    await clock.tickAsync(10 * CONFIG.replayIntervalMs);
    expect(store.attempts, 'no try once the queue is empty').to.deep.equal(['a', 'b', 'c']);
  });

  it('tries once every replayIntervalMs while the store fails, the oldest only, and never before', async () => {
    queue.enqueue(store.invalidation('a'));
    queue.enqueue(store.invalidation('b'));
    await clock.tickAsync(CONFIG.replayIntervalMs - 1);
    expect(store.attempts).to.deep.equal([]);
    await clock.tickAsync(1);
    expect(store.attempts).to.deep.equal(['a']);
    await clock.tickAsync(2 * CONFIG.replayIntervalMs);
    expect(store.attempts).to.deep.equal(['a', 'a', 'a']);
    expect(queue.size).to.equal(2);
  });

  it('keeps what failed and what follows it, and resumes from there on the next try', async () => {
    const flaky: QueuedInvalidation = {
      id: 'b',
      kind: 'key',
      replay: async () => {
        store.attempts.push('b');
        // Down again just after `a` went through.
        if (store.attempts.filter((id) => id === 'b').length === 1) throw new Error('store down again');
        store.replayed.push('b');
      },
    };
    queue.enqueue(store.invalidation('a'));
    queue.enqueue(flaky);
    queue.enqueue(store.invalidation('c'));
    store.up = true;
    await clock.tickAsync(CONFIG.replayIntervalMs);
    expect(store.replayed).to.deep.equal(['a']);
    expect(queue.size).to.equal(2);
    await clock.tickAsync(CONFIG.replayIntervalMs);
    expect(store.replayed).to.deep.equal(['a', 'b', 'c']);
    expect(store.attempts).to.deep.equal(['a', 'b', 'b', 'c']);
  });

  it('holds one invalidation per id: queued again, it moves behind the others', async () => {
    queue.enqueue(store.invalidation('a'));
    queue.enqueue(store.invalidation('b'));
    queue.enqueue(store.invalidation('a'));
    expect(queue.size).to.equal(2);
    store.up = true;
    await clock.tickAsync(CONFIG.replayIntervalMs);
    expect(store.replayed).to.deep.equal(['b', 'a']);
  });

  it('replays again an invalidation queued anew while its replay ran (it may have crossed later loads)', async () => {
    const running = deferred<void>();
    let runs = 0;
    const slow: QueuedInvalidation = {
      id: 'a',
      kind: 'tag',
      replay: () => {
        runs++;
        return runs === 1 ? running.promise : Promise.resolve();
      },
    };
    queue.enqueue(slow);
    await clock.tickAsync(CONFIG.replayIntervalMs);
    queue.enqueue(slow);
    running.resolve();
    await clock.tickAsync(0);
    expect(runs).to.equal(2);
    expect(queue.pending).to.equal(false);
  });

  it('refuses an invalidation once maxSize wait, reporting an overflow, and keeps those it holds', async () => {
    const seen = recordEvents(events);
    for (const id of ['a', 'b', 'c']) queue.enqueue(store.invalidation(id));
    expect(queue.enqueue(store.invalidation('d', 'pattern'))).to.equal(false);
    expect(seen.at(-1)).to.deep.equal({
      event: 'invalidation-dropped',
      payload: { kind: 'pattern', reason: 'overflow', queueSize: 3 },
    });
    // The same id as one already held takes no more room.
    expect(queue.enqueue(store.invalidation('a'))).to.equal(true);
    store.up = true;
    await clock.tickAsync(CONFIG.replayIntervalMs);
    expect(store.replayed).to.deep.equal(['b', 'c', 'a']);
  });

  it('gives up invalidations older than maxAgeMs, even while the store stays down, reporting their age', async () => {
    const seen = recordEvents(events);
    queue.enqueue(store.invalidation('old', 'key'));
    await clock.tickAsync(CONFIG.maxAgeMs / 2);
    queue.enqueue(store.invalidation('young'));
    await clock.tickAsync(CONFIG.maxAgeMs / 2 + CONFIG.replayIntervalMs);
    expect(seen.filter(({ event }) => event === 'invalidation-dropped')).to.deep.equal([
      { event: 'invalidation-dropped', payload: { kind: 'key', reason: 'age', queueSize: 1 } },
    ]);
    expect(queue.size).to.equal(1);
    await clock.tickAsync(CONFIG.maxAgeMs / 2);
    expect(queue.pending, 'the queue is empty once the last one is given up').to.equal(false);
    expect(store.replayed).to.deep.equal([]);
  });

  it('gives up expired invalidations before queueing another, so they take no room', () => {
    for (const id of ['a', 'b', 'c']) queue.enqueue(store.invalidation(id));
    clock.setSystemTime(Date.now() + CONFIG.maxAgeMs + 1);
    expect(queue.enqueue(store.invalidation('d'))).to.equal(true);
    expect(queue.size).to.equal(1);
  });

  it('runs one replay at a time: a replay asked for during one joins it', async () => {
    const running = deferred<void>();
    let runs = 0;
    queue.enqueue({
      id: 'a',
      kind: 'tag',
      replay: () => {
        runs++;
        return running.promise;
      },
    });
    const first = queue.replay();
    const second = queue.replay();
    expect(second).to.equal(first);
    running.resolve();
    await first;
    expect(runs).to.equal(1);
  });

  it('stops trying on close(), after the replay under way', async () => {
    const running = deferred<void>();
    let runs = 0;
    queue.enqueue({
      id: 'a',
      kind: 'tag',
      replay: () => {
        runs++;
        return running.promise.then(() => {
          throw new Error('store down');
        });
      },
    });
    await clock.tickAsync(CONFIG.replayIntervalMs);
    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    await clock.tickAsync(0);
    expect(closed, 'close() waits for the replay under way').to.equal(false);
    running.resolve();
    await closing;
    await clock.tickAsync(10 * CONFIG.replayIntervalMs);
    expect(runs).to.equal(1);
    expect(clock.countTimers(), 'no timer left behind').to.equal(0);
  });

  it('keeps no process alive: its timer is unref()ed', async () => {
    clock.restore();
    const realTimers = new InvalidationQueue(CONFIG, events);
    const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    realTimers.enqueue(store.invalidation('a'));
    const after = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    await realTimers.close();
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    expect(after).to.equal(before);
  });
});

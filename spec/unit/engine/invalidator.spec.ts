import { expect } from 'chai';
import { ModeSwitch } from '../../../src/engine/cache-mode.js';
import { InvalidationQueue } from '../../../src/engine/invalidation-queue.js';
import { Invalidator } from '../../../src/engine/invalidator.js';
import { KeySpace } from '../../../src/engine/key-space.js';
import type { LoadCoordinator } from '../../../src/engine/load-coordinator.js';
import { MemoryTier } from '../../../src/engine/memory-tier.js';
import { CacheError } from '../../../src/errors.js';
import { type CacheEventMap, CacheEvents } from '../../../src/events.js';
import type { BusMessage, InvalidationBus } from '../../../src/store/invalidation-bus.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ResilientStore } from '../../../src/store/resilient-store.js';
import { ChaosStore } from '../../support/chaos-store.js';
import { rejectionOf } from '../../support/rejection-of.js';

/** An in-process bus joining any number of instances, as Redis pub/sub does. */
class LocalBus implements InvalidationBus {
  readonly #handlers: ((message: BusMessage) => void)[];
  published: BusMessage[] = [];
  failing = false;
  hanging = false;

  constructor(handlers: ((message: BusMessage) => void)[] = []) {
    this.#handlers = handlers;
  }

  joined(): LocalBus {
    return new LocalBus(this.#handlers);
  }

  async publish(message: BusMessage): Promise<void> {
    if (this.failing) throw new Error('publish failed');
    if (this.hanging) return new Promise<void>(() => {});
    this.published.push(message);
    for (const handler of this.#handlers) handler(message);
  }

  async subscribe(handler: (message: BusMessage) => void): Promise<void> {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {}
}

const RESILIENCE = {
  timeoutMs: 100,
  breakerThreshold: 0,
  breakerHalfOpenAfterMs: 1000,
  invalidationAttempts: 1,
  invalidationBackoffMs: 0,
};

type Detached = Parameters<LoadCoordinator['detach']>[0];

function instance(backend: MemoryStore, bus: LocalBus, keys?: KeySpace) {
  const events = new CacheEvents();
  const memory = new MemoryTier({ maxEntries: 100, maxBytes: 100_000, ttlMs: 60_000 });
  const store = new ResilientStore(backend, events, RESILIENCE);
  // Which loads under way each invalidation stopped sharing, in order.
  const detached: Detached[] = [];
  const loads = { detach: (change: Detached) => void detached.push(change) };
  const modes = new ModeSwitch(events);
  const invalidator = new Invalidator({
    store,
    memory,
    loads,
    bus,
    modes,
    events,
    publishTimeoutMs: 100,
    ...(keys === undefined ? {} : { inOwnVersion: (entryKey: string) => keys.inOwnVersion(entryKey) }),
  });
  return { events, memory, invalidator, detached, modes };
}

function hold(memory: MemoryTier, key: string): void {
  const now = Date.now();
  memory.set(
    key,
    { value: key, createdAtMs: now, freshUntilMs: now + 60_000, staleUntilMs: now + 60_000 },
    1,
    now,
  );
}

/** Instances `a` (over `backend`) and `b` (over `backendOfB`) joined by one bus, `b` listening. */
async function twoInstances(backend = new MemoryStore(), backendOfB = backend) {
  const bus = new LocalBus();
  const a = instance(backend, bus);
  const b = instance(backendOfB, bus.joined());
  await b.invalidator.listen();
  return { bus, a, b };
}

describe('Invalidator', () => {
  it("drops another instance's in-memory copy of an invalidated key", async () => {
    const { a, b } = await twoInstances();
    await a.invalidator.listen();
    hold(a.memory, 'p:k');
    hold(b.memory, 'p:k');
    hold(b.memory, 'p:other');
    await a.invalidator.deleteKey('p:k');
    expect(a.memory.get('p:k', Date.now())).to.equal(undefined);
    expect(b.memory.get('p:k', Date.now())).to.equal(undefined);
    expect(b.memory.get('p:other', Date.now())?.value).to.equal('p:other');
  });

  it("stops another version's loads of a key invalidated in every version, and drops its copy", async () => {
    const backend = new MemoryStore();
    const bus = new LocalBus();
    const [keysOf1, keysOf2] = [new KeySpace('p:', '1'), new KeySpace('p:', '2')];
    const a = instance(backend, bus, keysOf1);
    const b = instance(backend, bus.joined(), keysOf2);
    await b.invalidator.listen();
    // Version 2 holds the key in memory, its entry not (yet, or no longer) listed in the key's index.
    hold(b.memory, keysOf2.entryKey('k'));
    hold(b.memory, keysOf2.entryKey('other'));

    await a.invalidator.deleteKeyInEveryVersion(keysOf1.entryKey('k'), keysOf1.versionIndexKey('k'));

    expect(b.detached).to.deep.equal([{ keys: [keysOf2.entryKey('k')] }]);
    expect(b.memory.get(keysOf2.entryKey('k'), Date.now())).to.equal(undefined);
    expect(b.memory.get(keysOf2.entryKey('other'), Date.now())?.value).to.equal(keysOf2.entryKey('other'));
    // An invalidation of this version only leaves version 2 alone.
    hold(b.memory, keysOf2.entryKey('k'));
    await a.invalidator.deleteKey(keysOf1.entryKey('k'));
    expect(b.memory.get(keysOf2.entryKey('k'), Date.now())?.value).to.equal(keysOf2.entryKey('k'));
  });

  it('announces the keys a tag invalidation deleted, so other instances drop exactly those', async () => {
    const backend = new MemoryStore();
    await backend.set('p:a', Buffer.from('a'), { ttlMs: 60_000, tagKeys: ['p:__ca:tag:t'] });
    await backend.set('p:b', Buffer.from('b'), { ttlMs: 60_000 });
    const { bus, a, b } = await twoInstances(backend);
    hold(b.memory, 'p:a');
    hold(b.memory, 'p:b');
    expect(await a.invalidator.deleteTagged(['p:__ca:tag:t'])).to.equal(1);
    expect(bus.published).to.deep.equal([{ origin: a.invalidator.instanceId, keys: ['p:a'], tagged: true }]);
    expect(b.memory.get('p:a', Date.now())).to.equal(undefined);
    expect(b.memory.get('p:b', Date.now())?.value).to.equal('p:b');
  });

  it('announces a pattern invalidation as the pattern', async () => {
    const { a, b } = await twoInstances();
    hold(b.memory, 'p:user:1');
    hold(b.memory, 'p:item:1');
    await a.invalidator.deleteMatching('p:user:*', 'p:__ca:');
    expect(b.memory.get('p:user:1', Date.now())).to.equal(undefined);
    expect(b.memory.get('p:item:1', Date.now())?.value).to.equal('p:item:1');
  });

  it('ignores its own announcements and announces nothing for an empty key list', async () => {
    const bus = new LocalBus();
    const a = instance(new MemoryStore(), bus);
    await a.invalidator.listen();
    await a.invalidator.announce({ keys: [] });
    expect(bus.published).to.have.length(0);
    hold(a.memory, 'p:k');
    await a.invalidator.announce({ keys: ['p:other'] });
    expect(a.memory.get('p:k', Date.now())?.value).to.equal('p:k');
  });

  it('stops sharing the loads an invalidation crossed, here and on the instances that hear it', async () => {
    const { a, b } = await twoInstances(new MemoryStore(), new MemoryStore());
    await a.invalidator.deleteKey('p:k');
    await a.invalidator.deleteMatching('p:user:*', 'p:__ca:');
    // A tag's entries-to-be cannot be named: no load under way is shared after it.
    await a.invalidator.deleteTagged(['p:__ca:tag:t']);
    const expected = [{ keys: ['p:k'] }, { pattern: 'p:user:*' }, { all: true }];
    // Here both before and after Redis answered: a read in between may have found the old entry.
    expect(a.detached).to.deep.equal([
      { keys: ['p:k'] },
      { keys: ['p:k'] },
      { pattern: 'p:user:*' },
      { pattern: 'p:user:*' },
      { all: true },
    ]);
    expect(b.detached).to.deep.equal(expected);
  });

  it('gives up an announcement that hangs after publishTimeoutMs, and reports it', async () => {
    const bus = new LocalBus();
    bus.hanging = true;
    const a = instance(new MemoryStore(), bus);
    const failures: string[] = [];
    a.events.on('failure', ({ operation, error }) =>
      failures.push(`${operation}: ${(error as CacheError).code}`),
    );
    expect(await a.invalidator.deleteKey('p:k')).to.equal(false);
    expect(failures).to.deep.equal(['publish: E_STORE_TIMEOUT']);
  });

  it('reports a lost announcement without failing the invalidation', async () => {
    const bus = new LocalBus();
    bus.failing = true;
    const a = instance(new MemoryStore(), bus);
    const failures: string[] = [];
    a.events.on('failure', ({ operation }) => failures.push(operation));
    expect(await a.invalidator.deleteKey('p:k')).to.equal(false);
    expect(failures).to.deep.equal(['publish']);
  });

  it('announces a queued invalidation to the other instances when it is replayed, not before', async () => {
    const backend = new ChaosStore();
    await backend.set('p:a', Buffer.from('a'), { ttlMs: 60_000, tagKeys: ['p:__ca:tag:t'] });
    const bus = new LocalBus();
    const events = new CacheEvents();
    const queue = new InvalidationQueue({ maxSize: 10, maxAgeMs: 60_000, replayIntervalMs: 60_000 }, events);
    const a = new Invalidator({
      store: new ResilientStore(backend, events, RESILIENCE),
      memory: undefined,
      loads: { detach: () => undefined },
      bus,
      modes: new ModeSwitch(events),
      events,
      publishTimeoutMs: 100,
      queue,
    });
    const b = instance(new MemoryStore(), bus.joined());
    await b.invalidator.listen();
    hold(b.memory, 'p:a');

    backend.alwaysThrow(new Error('ECONNREFUSED'));
    await rejectionOf(a.deleteTagged(['p:__ca:tag:t']));
    expect(bus.published, 'nothing announced while the store fails').to.deep.equal([]);
    expect(b.memory.get('p:a', Date.now())?.value).to.equal('p:a');

    backend.heal();
    await queue.replay();
    expect(bus.published).to.deep.equal([{ origin: a.instanceId, keys: ['p:a'], tagged: true }]);
    expect(b.memory.get('p:a', Date.now())).to.equal(undefined);
    expect(b.detached[0], 'no load under way there is shared past it').to.deep.equal({ all: true });
    await queue.close();
  });

  describe('mode switches', () => {
    function modeEvents(events: CacheEvents): CacheEventMap['mode'][0][] {
      const seen: CacheEventMap['mode'][0][] = [];
      events.on('mode', (event) => seen.push(event));
      return seen;
    }

    it('switches every instance that listens, and says the switch came from another instance', async () => {
      const { bus, a, b } = await twoInstances();
      const seenByB = modeEvents(b.events);
      await a.invalidator.announceMode('shadow');
      expect(bus.published).to.deep.equal([{ origin: a.invalidator.instanceId, mode: 'shadow' }]);
      expect(b.modes.current).to.equal('shadow');
      expect(seenByB).to.deep.equal([{ mode: 'shadow', previous: 'on', fromAnotherInstance: true }]);
    });

    it('applies its own switches as the bus delivers them, so that concurrent switches end alike everywhere', async () => {
      const { a, b } = await twoInstances();
      await a.invalidator.listen();
      // A switched itself to `off` and published it; B published `shadow` before A's reached the bus.
      a.modes.apply('off', false);
      await b.invalidator.announceMode('shadow');
      await a.invalidator.announceMode('off');
      expect([a.modes.current, b.modes.current]).to.deep.equal(['off', 'off']);
    });

    it('leaves invalidations alone when a message is a mode switch, and mode alone for invalidations', async () => {
      const { a, b } = await twoInstances();
      hold(b.memory, 'p:k');
      await a.invalidator.announceMode('off');
      await a.invalidator.announce({ keys: ['p:other'] });
      expect(b.memory.get('p:k', Date.now())?.value).to.equal('p:k');
      expect(b.modes.current).to.equal('off');
    });

    it('rejects when the switch cannot be published, and reports the failure', async () => {
      const bus = new LocalBus();
      bus.failing = true;
      const a = instance(new MemoryStore(), bus);
      const failures: string[] = [];
      a.events.on('failure', ({ operation }) => failures.push(operation));
      const error = await rejectionOf(a.invalidator.announceMode('off'));
      expect(error).to.be.instanceOf(CacheError).and.include({ code: 'E_STORE_FAILED' });
      expect((error as Error).message).to.include("switched to 'off' here");
      expect(failures).to.deep.equal(['publish']);
    });

    it('rejects with E_STORE_TIMEOUT when publishing hangs past publishTimeoutMs', async () => {
      const bus = new LocalBus();
      bus.hanging = true;
      const a = instance(new MemoryStore(), bus);
      const error = await rejectionOf(a.invalidator.announceMode('shadow'));
      expect(error).to.be.instanceOf(CacheError).and.include({ code: 'E_STORE_TIMEOUT' });
    });
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { NO_TRACING } from '../../../src/engine/cache-tracer.js';
import type { StoredValue } from '../../../src/engine/entry-codec.js';
import { EntryIO } from '../../../src/engine/entry-io.js';
import { KeySpace } from '../../../src/engine/key-space.js';
import type { RandomSource } from '../../../src/engine/ttl-jitter.js';
import { CacheOptionError } from '../../../src/errors.js';
import { CacheEvents } from '../../../src/events.js';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';
import type { StoreSetOptions } from '../../../src/store/cache-store.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ResilientStore } from '../../../src/store/resilient-store.js';
import { makeCache } from './make-cache.js';

const TTL_SECONDS = 100;
const STALE_TTL_SECONDS = 30;
const WRITES = 2_000;

/**
 * Uniform draws in [0, 1) from a fixed seed: the same numbers on every run, so a statistical check
 * of them cannot flake. (`noBias`: fast-check's default generation favours edge values.)
 */
function seededRandom(seed: number, count: number): RandomSource {
  const draws = fc.sample(fc.noBias(fc.integer({ min: 0, max: 0xffff_ffff })), { seed, numRuns: count });
  let next = 0;
  return () => {
    const draw = draws[next++];
    if (draw === undefined) throw new Error(`more than ${count} draws`);
    return draw / 2 ** 32;
  };
}

/** `WRITES` entries written together through an `EntryIO` with `ttlJitter`, and what each became. */
async function writeMany(ttlJitter: number, random: RandomSource) {
  const events = new CacheEvents();
  const memoryStore = new MemoryStore({ maxEntries: WRITES * 2 });
  const sets = sinon.spy(memoryStore, 'set');
  const store = new ResilientStore(memoryStore, events, {
    timeoutMs: 1_000,
    breakerThreshold: 0,
    breakerHalfOpenAfterMs: 1_000,
    invalidationAttempts: 1,
    invalidationBackoffMs: 0,
  });
  const keys = new KeySpace('jitter:');
  const io = new EntryIO({
    keys,
    store,
    memory: undefined,
    tracer: NO_TRACING,
    events,
    serializer: jsonSerializer,
    ttlSeconds: TTL_SECONDS,
    staleTtlSeconds: STALE_TTL_SECONDS,
    ttlJitter,
    random,
  });
  const entryKeys = Array.from({ length: WRITES }, (_, index) => keys.entryKey(`item:${index}`));
  await Promise.all(entryKeys.map((entryKey, index) => io.write(entryKey, index, {})));
  const stored = await Promise.all(entryKeys.map((entryKey) => io.read<number>(entryKey, jsonSerializer)));
  return {
    entries: stored.map((entry) => entry as StoredValue<number>),
    storeTtlsMs: sets.getCalls().map((call) => (call.args[2] as StoreSetOptions).ttlMs),
  };
}

/** How long each entry was fresh for, in seconds (its age at writing is 0). */
function freshSeconds(entries: readonly StoredValue<number>[]): number[] {
  return entries.map((entry) => (entry.freshUntilMs - entry.createdAtMs) / 1000);
}

describe('ttlJitter', () => {
  it('spreads the freshness of entries written together roughly uniformly over [0.8·ttl, ttl] with 0.2', async () => {
    const { entries } = await writeMany(0.2, seededRandom(16, WRITES));
    const lifetimes = freshSeconds(entries);
    // Jitter only shortens: no entry is fresh for longer than its ttl, none for 80 % or less of it.
    expect(Math.max(...lifetimes)).to.be.at.most(TTL_SECONDS);
    expect(Math.min(...lifetimes)).to.be.above(0.8 * TTL_SECONDS);
    // Ten equal bins over the range each hold close to a tenth of the writes (200 ± 50: about 3.7
    // standard deviations of a binomial count; the seed makes it the same count on every run).
    const bins = new Array<number>(10).fill(0);
    for (const lifetime of lifetimes) {
      const bin = Math.min(9, Math.floor((lifetime - 0.8 * TTL_SECONDS) / (0.02 * TTL_SECONDS)));
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    for (const count of bins) expect(count).to.be.within(150, 250);
  });

  it('moves the stale window with the jittered freshness, keeping its length, and the store lifetime with it', async () => {
    const { entries, storeTtlsMs } = await writeMany(0.2, seededRandom(7, WRITES));
    for (const entry of entries) {
      expect(entry.staleUntilMs - entry.freshUntilMs).to.equal(STALE_TTL_SECONDS * 1000);
    }
    // The store forgets each entry when its stale window ends: spread too, never past ttl + staleTtl.
    const longestMs = (TTL_SECONDS + STALE_TTL_SECONDS) * 1000;
    expect(Math.max(...storeTtlsMs)).to.be.at.most(longestMs);
    expect(Math.min(...storeTtlsMs)).to.be.below(longestMs - 0.15 * TTL_SECONDS * 1000);
  });

  it('leaves every entry its whole ttl at 0, the default, without drawing', async () => {
    const random = sinon.spy(() => 0.5);
    const { entries } = await writeMany(0, random);
    expect(new Set(freshSeconds(entries))).to.deep.equal(new Set([TTL_SECONDS]));
    expect(random.called).to.equal(false);
  });

  it('is applied by a cache created with it, per call ttl included', async () => {
    const cache = makeCache({ ttlJitter: 0.5 });
    const lifetimes: number[] = [];
    for (let index = 0; index < 50; index++) {
      await cache.set(`k${index}`, index, { ttl: 10 });
      const hit = await cache.lookup(`k${index}`, () => -1);
      lifetimes.push(((hit.freshUntilMs as number) - (hit.createdAtMs as number)) / 1000);
    }
    expect(Math.max(...lifetimes)).to.be.at.most(10);
    expect(Math.min(...lifetimes)).to.be.above(5);
    expect(new Set(lifetimes).size).to.be.above(1);
    await cache.close();
  });

  for (const value of [-0.1, 1, 1.5, Number.NaN, '0.2']) {
    it(`refuses ttlJitter ${typeof value === 'string' ? JSON.stringify(value) : String(value)} at creation`, () => {
      expect(() => makeCache({ ttlJitter: value as number })).to.throw(CacheOptionError, /`ttlJitter`/);
    });
  }
});

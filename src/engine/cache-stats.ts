import type { CacheEvents } from '../events.js';

/** Counters of one cache since it was created. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Lookups answered from a stale entry (stale-while-revalidate or stale-if-error). */
  stale: number;
  /** Store and decode failures that were absorbed (the caller still got a value). */
  errors: number;
  /** Loader runs. */
  loads: number;
  /** Loader runs that failed: threw, timed out, or (a route handler) answered with a server error. */
  loadErrors: number;
  /** Lookups served by another caller's load (single-flight). */
  coalesced: number;
  /** `hits / (hits + misses + stale)`, 0 before the first lookup; stale serves count as non-hits. */
  hitRatio: number;
  /** Mean loader time in milliseconds, 0 before the first load. */
  avgLoadMs: number;
  /** Entries held by the in-process tier (0 without one). */
  memoryEntries: number;
  /** Bytes held by the in-process tier (0 without one). */
  memoryBytes: number;
}

/** Accumulates the counters behind {@link CacheStats}. */
export class CacheStatsRecorder {
  hits = 0;
  misses = 0;
  stale = 0;
  errors = 0;
  loads = 0;
  loadErrors = 0;
  coalesced = 0;
  #totalLoadMs = 0;

  recordLoad(durationMs: number, failed: boolean): void {
    this.loads++;
    if (failed) this.loadErrors++;
    this.#totalLoadMs += durationMs;
  }

  snapshot(): Omit<CacheStats, 'memoryEntries' | 'memoryBytes'> {
    const lookups = this.hits + this.misses + this.stale;
    return {
      hits: this.hits,
      misses: this.misses,
      stale: this.stale,
      errors: this.errors,
      loads: this.loads,
      loadErrors: this.loadErrors,
      coalesced: this.coalesced,
      hitRatio: lookups === 0 ? 0 : this.hits / lookups,
      avgLoadMs: this.loads === 0 ? 0 : this.#totalLoadMs / this.loads,
    };
  }
}

/** Keeps `recorder` up to date from the cache's events. */
export function observeStats(events: CacheEvents, recorder: CacheStatsRecorder): void {
  events.on('lookup', ({ result }) => {
    if (result === 'hit') recorder.hits++;
    else if (result === 'miss') recorder.misses++;
    else recorder.stale++;
  });
  events.on('load', ({ durationSeconds, failed }) => recorder.recordLoad(durationSeconds * 1000, failed));
  events.on('coalesced', () => {
    recorder.coalesced++;
  });
  events.on('failure', () => {
    recorder.errors++;
  });
}

import type { FaultRecord } from './soak-records.js';

/** A fault to inject: when (ms after the load starts) and for how long. */
export interface PlannedFault {
  kind: FaultRecord['kind'];
  atMs: number;
  durationMs: number;
}

// The bug report's run: Redis killed twice, paused twice, the data source failing once; alternated so
// that no fault starts while the effects of the previous one (an empty Redis, say) are still fresh.
const ORDER: readonly FaultRecord['kind'][] = [
  'redis-kill',
  'redis-pause',
  'data-source-failure',
  'redis-kill',
  'redis-pause',
];
const LONGEST_MS: Record<FaultRecord['kind'], number> = {
  'redis-kill': 2000,
  'redis-pause': 3000,
  'data-source-failure': 4000,
};
// The first 15 % of the run is warm-up, the last 15 % shows the recovery from the last fault.
const FIRST_AT = 0.15;
const LAST_BY = 0.85;

/**
 * Spreads the faults evenly over the run, one per slot. Each lasts its usual length (a few
 * seconds) or a quarter of its slot on a short run, so that the system has time to recover before
 * the next one.
 */
export function planFaults(loadMs: number): PlannedFault[] {
  const slotMs = ((LAST_BY - FIRST_AT) * loadMs) / ORDER.length;
  return ORDER.map((kind, index) => ({
    kind,
    atMs: Math.round(FIRST_AT * loadMs + index * slotMs),
    durationMs: Math.round(Math.min(LONGEST_MS[kind], slotMs / 4)),
  }));
}

import type { DataSource } from './data-source.js';
import type { PlannedFault } from './fault-plan.js';
import type { RedisProcess } from './redis-process.js';
import type { RunClock } from './run-clock.js';
import type { FaultRecord } from './soak-records.js';

/** What the faults act on. */
export interface FaultTargets {
  redis: RedisProcess;
  dataSource: DataSource;
}

/**
 * Injects the planned faults one after the other, `plan[i].atMs` after `loadStartMs`, and records
 * when each really began and ended (a restarted Redis ends its fault once it accepts connections).
 */
export async function injectFaults(
  plan: readonly PlannedFault[],
  targets: FaultTargets,
  clock: RunClock,
  loadStartMs: number,
  onFault: (fault: FaultRecord) => void,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of plan) {
    await sleep(loadStartMs + fault.atMs - clock.now());
    const startMs = clock.now();
    await inject(fault, targets);
    const record = { kind: fault.kind, startMs, endMs: clock.now() };
    records.push(record);
    onFault(record);
  }
  return records;
}

async function inject(fault: PlannedFault, { redis, dataSource }: FaultTargets): Promise<void> {
  switch (fault.kind) {
    case 'redis-kill':
      await redis.kill();
      await sleep(fault.durationMs);
      await redis.restart();
      return;
    case 'redis-pause':
      redis.pause();
      try {
        await sleep(fault.durationMs);
      } finally {
        redis.resume();
      }
      return;
    case 'data-source-failure':
      dataSource.setFailing(true);
      try {
        await sleep(fault.durationMs);
      } finally {
        dataSource.setFailing(false);
      }
      return;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

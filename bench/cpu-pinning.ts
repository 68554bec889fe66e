import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** Whether processes can be pinned to cores here: Linux `taskset` and at least two cores. */
export function canPinCpus(): boolean {
  return os.cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Pins every thread of process `pid` to core `cpu`; false when that failed. */
export function pinToCpu(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

/** Scheduling priority the benchmark's processes ask for (nice value; lower runs first). */
export const BENCH_PRIORITY = -10;

/**
 * Raises the scheduling priority of `pid` to {@link BENCH_PRIORITY} so that other work on the
 * machine disturbs the measurement less; false when not allowed (it needs root or CAP_SYS_NICE).
 */
export function raisePriority(pid: number): boolean {
  try {
    os.setPriority(pid, BENCH_PRIORITY);
    return true;
  } catch {
    return false;
  }
}

/** Where each process runs: the server under test alone on one core; load generator and Redis on the other. */
export const CPU_LAYOUT = { server: 0, loadGenerator: 1, redis: 1 } as const;

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildThisCheckout, LIBRARY_ENV } from './built-library.js';
import { BENCH_PRIORITY, CPU_LAYOUT, canPinCpus, pinToCpu, raisePriority } from './cpu-pinning.js';
import { type CpuProfile, summarizeCpuProfile } from './cpu-profile-summary.js';
import { measureVariant, type ProfiledPath } from './measure-variant.js';
import { startRedisServer } from './redis-server.js';
import { variantById } from './variant-catalog.js';

// `npx tsx bench/profile.ts [--variant ours-redis] [--path hit|miss|cpu-miss] [--seconds 10] [--top 25]`:
// profiles the server process of one variant during a hit run, the 20 ms miss run or the CPU-bound
// miss run (V8's sampling profiler, started before the warm-up) and prints where its CPU time went. The .cpuprofile is kept in bench/.tmp/ for Chrome DevTools.
const { values } = parseArgs({
  options: {
    variant: { type: 'string', default: 'ours-redis' },
    path: { type: 'string', default: 'hit' },
    seconds: { type: 'string', default: '10' },
    top: { type: 'string', default: '25' },
    connections: { type: 'string', default: '50' },
  },
});

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const profileDir = fileURLToPath(new URL('./.tmp', import.meta.url));
const limit = setTimeout(() => process.exit(2), 300_000);
limit.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const profiled: ProfiledPath = values.path === 'miss' || values.path === 'cpu-miss' ? values.path : 'hit';
  const spec = { ...variantById(values.variant), measureMiss: profiled !== 'hit' };
  const path = join(profileDir, `${spec.id}-${profiled}.cpuprofile`);
  mkdirSync(profileDir, { recursive: true });
  const pin = canPinCpus() && pinToCpu(process.pid, CPU_LAYOUT.loadGenerator);
  const raised = raisePriority(process.pid);
  console.log(`${pin ? 'pinned' : 'not pinned'}; ${raised ? `nice ${BENCH_PRIORITY}` : 'default priority'}`);
  const redis = await startRedisServer(pin ? CPU_LAYOUT.redis : undefined);
  try {
    const seconds = Number(values.seconds);
    const measured = await measureVariant(
      spec,
      redis,
      {
        connections: Number(values.connections),
        hitSeconds: profiled === 'hit' ? seconds : 2,
        missSeconds: profiled === 'miss' ? seconds : 2,
        warmupSeconds: 2,
        ...(profiled === 'cpu-miss' ? { cpuMissSeconds: seconds } : {}),
      },
      {
        profile: { path: profiled, file: path },
        env: { [LIBRARY_ENV]: buildThisCheckout() },
        ...(pin ? { cpu: CPU_LAYOUT.server } : {}),
      },
    );
    const run = { hit: measured.hit, miss: measured.miss, 'cpu-miss': measured.cpuMiss }[profiled];
    if (run !== undefined) {
      console.log(
        `${spec.id} ${profiled} path under the profiler: ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, server CPU ${Math.round(run.serverCpuCores * 100)} %, ${Math.round(run.serverCpuMicrosPerResponse)} µs per response`,
      );
    }
  } finally {
    await redis.stop();
  }
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const { functions, areas } = summarizeCpuProfile(profile, root);
  const top = Number(values.top);
  console.log(`\nProfile of the measured ${profiled} run: ${path}\n`);
  console.log('Self time by area (percent of samples):');
  for (const area of areas) {
    if (area.selfPercent >= 0.3) console.log(`  ${area.selfPercent.toFixed(1).padStart(5)} %  ${area.area}`);
  }
  console.log(`\nTop ${top} functions by self time:`);
  for (const share of [...functions].sort((a, b) => b.selfPercent - a.selfPercent).slice(0, top)) {
    console.log(`  ${share.selfPercent.toFixed(1).padStart(5)} %  ${share.name}  ${share.location}`);
  }
  console.log('\nexpress-cache-aside functions by total time (self + callees):');
  for (const share of functions
    .filter((candidate) => candidate.area.startsWith('express-cache-aside'))
    .sort((a, b) => b.totalPercent - a.totalPercent)
    .slice(0, top)) {
    console.log(
      `  ${share.totalPercent.toFixed(1).padStart(5)} % total, ${share.selfPercent.toFixed(1).padStart(4)} % self  ${share.name}  ${share.location}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

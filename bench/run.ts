import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareBeforeAfter } from './before-after.js';
import { BEFORE_SRC_ENV, type BeforeRevision, extractRevision } from './before-revision.js';
import { buildThisCheckout, LIBRARY_ENV } from './built-library.js';
import { BENCH_PRIORITY, CPU_LAYOUT, canPinCpus, pinToCpu, raisePriority } from './cpu-pinning.js';
import { averageBodyBytes } from './fixture-route.js';
import { type MeasureSettings, measureVariant, type VariantRound } from './measure-variant.js';
import { type MemoryFootprint, measureMemory } from './memory-footprint.js';
import { startRedisServer } from './redis-server.js';
import { NOTES_MARKER, renderResults } from './results-report.js';
import { checkMemoryTargets, checkTargets, summarize } from './summarize.js';
import { isCache, VARIANTS, type VariantSpec, variantById, withBeforeVariants } from './variant-catalog.js';

// `npm run bench [-- --rounds 3 --hit-seconds 5 --miss-seconds 3 --only ours-redis,express-buffer --output FILE]`
// `--before <git-rev>` adds our two variants running that revision's src/ (before-redis, before-memory).
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'hit-seconds': { type: 'string', default: '5' },
    'miss-seconds': { type: 'string', default: '3' },
    'cpu-miss-seconds': { type: 'string' },
    'warmup-seconds': { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'hit-rate': { type: 'string' },
    'miss-sweep': { type: 'string', default: '1,10' },
    before: { type: 'string' },
    memory: { type: 'string', default: '1000,10000' },
    output: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});

const rounds = positive(values.rounds, 'rounds');
const settings: MeasureSettings = {
  connections: positive(values.connections, 'connections'),
  hitSeconds: positive(values['hit-seconds'], 'hit-seconds'),
  missSeconds: positive(values['miss-seconds'], 'miss-seconds'),
  warmupSeconds: Number(values['warmup-seconds']),
  ...(values['hit-rate'] === undefined ? {} : { hitRate: positive(values['hit-rate'], 'hit-rate') }),
  missSweepConnections: sweepConcurrencies(values['miss-sweep']),
  // As long as the 20 ms miss run unless told otherwise.
  cpuMissSeconds: positive(values['cpu-miss-seconds'] ?? values['miss-seconds'], 'cpu-miss-seconds'),
};
const memorySettings = memoryEntries(values.memory);
const before: BeforeRevision | undefined =
  values.before === undefined ? undefined : extractRevision(values.before);
const catalog = before === undefined ? VARIANTS : withBeforeVariants(before.shortHash);
const variants: readonly VariantSpec[] =
  values.only === undefined ? catalog : values.only.split(',').map((id) => variantById(id.trim(), catalog));

// Every run is bounded: past twice the planned time (and at least ten minutes) the harness gives up;
// its exit handlers kill the servers and redis-server.
const plannedSeconds =
  rounds *
    variants.reduce(
      (sum, variant) =>
        sum +
        3 +
        settings.warmupSeconds +
        settings.hitSeconds +
        (variant.measureMiss
          ? (1 + (settings.missSweepConnections?.length ?? 0)) * (0.5 + settings.missSeconds) +
            0.5 +
            (settings.cpuMissSeconds ?? 0)
          : 0),
      0,
    ) +
  (memorySettings === undefined ? 0 : 30);
const deadline = setTimeout(
  () => {
    console.error('bench: time limit reached, stopping');
    process.exit(2);
  },
  Math.max(600, plannedSeconds * 2) * 1000,
);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loadBefore = os.loadavg()[0] ?? 0;
  const pin = !values['no-pin'] && canPinCpus();
  if (pin && !pinToCpu(process.pid, CPU_LAYOUT.loadGenerator)) throw new Error('could not pin the harness');
  // Raised before anything is started: the servers and redis-server inherit it.
  const raised = raisePriority(process.pid);
  const cpuLayout = `${
    pin
      ? `Pinned with taskset: the server under test alone on CPU ${CPU_LAYOUT.server}; the load generator (autocannon, in the harness) and redis-server on CPU ${CPU_LAYOUT.loadGenerator}`
      : 'Not pinned: the OS schedules server, load generator and redis-server over the cores'
  }; ${raised ? `scheduling priority raised to nice ${BENCH_PRIORITY}` : 'default scheduling priority'}`;
  console.log(
    `bench: ${variants.length} variants × ${rounds} rounds, about ${Math.round(plannedSeconds)} s; ${cpuLayout}`,
  );
  if (before !== undefined)
    console.log(`bench: before = ${values.before} (${before.shortHash}), src/ in ${before.srcDir}, built`);
  const library = buildThisCheckout();
  // The memory measurement's processes inherit it too.
  process.env[LIBRARY_ENV] = library;
  const redis = await startRedisServer(pin ? CPU_LAYOUT.redis : undefined);
  const results = new Map<string, VariantRound[]>(variants.map((variant) => [variant.id, []]));
  const processOptions = {
    ...(pin ? { cpu: CPU_LAYOUT.server } : {}),
    env: {
      [LIBRARY_ENV]: library,
      ...(before === undefined ? {} : { [BEFORE_SRC_ENV]: before.built }),
    },
  };
  let memory: MemoryFootprint | undefined;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const variant of variants) {
        const measured = await measureVariant(variant, redis, settings, processOptions);
        results.get(variant.id)?.push(measured);
        console.log(describe(round, variant, measured));
      }
    }
    if (memorySettings !== undefined) {
      memory = await measureMemory(redis, memorySettings);
      console.log(
        `bench: memory measured${typeof memory.redis === 'string' ? `; Redis: ${memory.redis}` : ''}${typeof memory.heap === 'string' ? `; tier: ${memory.heap}` : ''}`,
      );
    }
  } finally {
    await redis.stop();
  }
  const summaries = variants.map((variant) => summarize(variant, results.get(variant.id) ?? []));
  const checks = [...checkTargets(summaries), ...(memory === undefined ? [] : checkMemoryTargets(memory))];
  const report = renderResults(
    {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: os.totalmem() / 2 ** 30,
      nodeVersion: process.version,
      redisVersion: redis.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      date: new Date().toISOString(),
      rounds,
      settings,
      averageBodyBytes: averageBodyBytes(),
      durationSeconds: (Date.now() - startedAt) / 1000,
      cpuLayout,
      loadAverage: { before: loadBefore, after: os.loadavg()[0] ?? 0 },
      ...(before === undefined || values.before === undefined
        ? {}
        : { before: { revision: values.before, shortHash: before.shortHash } }),
    },
    { summaries, checks, beforeAfter: compareBeforeAfter(variants, results), memory },
  );
  writeFileSync(values.output, `${report}\n${keptNotes(values.output)}`);
  formatMarkdown(values.output);
  for (const check of checks) {
    const verdict = check.met === undefined ? '-' : check.met ? 'met' : 'MISSED';
    console.log(
      `${check.kind === 'issue' ? verdict.padEnd(6) : `(info ${check.met === undefined ? '-' : check.met ? 'holds' : 'does not hold'})`} ${check.target}: ${check.measured}`,
    );
  }
  console.log(`bench: wrote ${values.output}`);
}

function describe(round: number, variant: VariantSpec, measured: VariantRound): string {
  const { hit, miss, cpuMiss } = measured;
  const missText =
    miss === undefined
      ? ''
      : `; miss ${Math.round(miss.requestsPerSecond)} req/s p50 ${miss.p50Ms.toFixed(2)} ms p99 ${miss.p99Ms.toFixed(2)} ms, server CPU ${Math.round(miss.serverCpuCores * 100)} % ${Math.round(miss.serverCpuMicrosPerResponse)} µs/req, load generator CPU ${Math.round(miss.loadGeneratorCpuCores * 100)} %`;
  const sweepText = measured.missSweep
    .map(({ connections, run }) => `; miss at ${connections} conn. p50 ${run.p50Ms.toFixed(2)} ms`)
    .join('');
  const cpuMissText =
    cpuMiss === undefined
      ? ''
      : `; CPU-bound miss ${Math.round(cpuMiss.requestsPerSecond)} req/s p50 ${cpuMiss.p50Ms.toFixed(2)} ms p99 ${cpuMiss.p99Ms.toFixed(2)} ms, server CPU ${Math.round(cpuMiss.serverCpuCores * 100)} % ${Math.round(cpuMiss.serverCpuMicrosPerResponse)} µs/req, load generator CPU ${Math.round(cpuMiss.loadGeneratorCpuCores * 100)} %, handler runs per response ${(cpuMiss.handlerRuns / Math.max(1, cpuMiss.responses2xx)).toFixed(2)}`;
  const runs = isCache(variant)
    ? ` (handler runs during hits: ${hit.warmupHandlerRuns + hit.handlerRuns})`
    : '';
  return `round ${round} ${variant.id.padEnd(20)} hit ${Math.round(hit.requestsPerSecond)} req/s p50 ${hit.p50Ms.toFixed(2)} ms p99 ${hit.p99Ms.toFixed(2)} ms, server CPU ${Math.round(hit.serverCpuCores * 100)} % ${Math.round(hit.serverCpuMicrosPerResponse)} µs/req, load generator CPU ${Math.round(hit.loadGeneratorCpuCores * 100)} %${missText}${sweepText}${cpuMissText}${runs}`;
}

/** Aligns the tables the way `npm run lint` (Biome) wants them; skipped when Biome is not installed. */
function formatMarkdown(path: string): void {
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', path], { stdio: 'ignore' });
}

/** The hand-written part of an existing results file, from the marker on. */
function keptNotes(path: string): string {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const at = previous.indexOf(NOTES_MARKER);
  return at === -1 ? `${NOTES_MARKER}\n` : previous.slice(at);
}

/** `--memory 1000,10000`: entries of the Redis and of the tier measurement; `none` skips both. */
function memoryEntries(raw: string | undefined): { redisEntries: number; heapEntries: number } | undefined {
  if (raw === 'none') return undefined;
  const [redisEntries, heapEntries = redisEntries] = (raw ?? '')
    .split(',')
    .map((item) => positive(item.trim(), 'memory'));
  if (redisEntries === undefined || heapEntries === undefined)
    throw new Error('--memory must be N[,M] or none');
  return { redisEntries, heapEntries };
}

/** `--miss-sweep 1,10`: further miss-run concurrencies; `--miss-sweep none` turns them off. */
function sweepConcurrencies(raw: string | undefined): number[] {
  if (raw === undefined || raw === '' || raw === 'none') return [];
  return raw.split(',').map((item) => positive(item.trim(), 'miss-sweep'));
}

function positive(raw: string | undefined, name: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

import { type ChildProcess, fork } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { extractRevision } from './before-revision.js';
import { buildThisCheckout, importBuilt } from './built-library.js';
import { CPU_LAYOUT, canPinCpus, pinToCpu, raisePriority } from './cpu-pinning.js';
import { ITEM_COUNT, itemPath } from './fixture-route.js';
import type { LoadResult } from './load.js';
import type { BurstRequest } from './paired-load.js';
import { startRedisServer } from './redis-server.js';
import { median } from './statistics.js';
import { VARIANTS } from './variant-catalog.js';
import { startOurs } from './variants/ours.js';
import type { StartVariant } from './variants/variant.js';

// `npx tsx bench/paired.ts --variants express-buffer,ours-memory,ours-memory-quiet [--path hit|cpu-miss]
//   [--rounds 10] [--seconds 1.5] [--before <git-rev>] [--rate <req/s>]`: every variant served by this one process (pinned to
// one core), autocannon in a child on the other, in short bursts that alternate between the variants. On a
// shared machine whose speed drifts by tens of percent within a minute, a ratio of two bursts a second apart
// says more than one of two runs a minute apart. Prints each variant's median server CPU per response and
// requests per second, and the median of the per-round ratios to the first variant listed.
const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'express-buffer,ours-redis,ours-memory' },
    path: { type: 'string', default: 'hit' },
    rounds: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '1.5' },
    connections: { type: 'string', default: '50' },
    before: { type: 'string' },
    rate: { type: 'string' },
  },
});

const limit = setTimeout(() => process.exit(2), 1_800_000);
limit.unref();

/** Ours, at this checkout or at `--before`, with or without the tier, observed or `-quiet`. */
const OURS = /^(ours|before)-(redis|memory)(-quiet)?$/;

async function variantStarter(id: string): Promise<StartVariant> {
  const peer = VARIANTS.find((spec) => spec.id === id && spec.role !== 'ours');
  if (peer !== undefined) {
    return ((await import(`./variants/${peer.id}.js`)) as { startVariant: StartVariant }).startVariant;
  }
  const ours = OURS.exec(id);
  if (ours === null) {
    const known = VARIANTS.filter((spec) => spec.role !== 'ours').map((spec) => spec.id);
    throw new Error(
      `unknown variant '${id}'; known: ${known.join(', ')}, ours-redis, ours-memory, before-redis, before-memory, and each of the last four with -quiet`,
    );
  }
  const before = ours[1] === 'before';
  if (before && values.before === undefined) throw new Error(`${id} needs --before <git-rev>`);
  const built = before ? extractRevision(values.before ?? '').built : buildThisCheckout();
  return startOurs(ours[2] === 'memory' ? {} : undefined, () => importBuilt(built), ours[3] !== undefined);
}

function burst(child: ChildProcess, request: BurstRequest): Promise<LoadResult> {
  return new Promise((resolve) => {
    child.once('message', (result: LoadResult) => resolve(result));
    child.send(request);
  });
}

/** A young-generation collection on demand (`--expose-gc`, turned on from inside: tsx starts this process). */
function youngCollector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  return () => gc({ type: 'minor' });
}
const collectGarbage = youngCollector();

async function main(): Promise<void> {
  const ids = values.variants.split(',');
  const kind = values.path === 'cpu-miss' ? 'unique' : 'cycle';
  const pin = canPinCpus() && pinToCpu(process.pid, CPU_LAYOUT.server);
  raisePriority(process.pid);
  const redis = await startRedisServer(pin ? CPU_LAYOUT.redis : undefined);
  const servers: { id: string; port: number; server: Server; close(): Promise<void> }[] = [];
  const child = fork(fileURLToPath(new URL('./paired-load.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
  });
  if (pin && child.pid !== undefined) pinToCpu(child.pid, CPU_LAYOUT.loadGenerator);
  try {
    for (const [index, id] of ids.entries()) {
      // A database of its own per variant: no variant finds another's entries.
      const start = await variantStarter(id);
      const { app, close } = await start({ redisUrl: `${redis.url}/${index}`, redisPort: redis.port });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      servers.push({ id, port: (server.address() as AddressInfo).port, server, close });
    }
    const paths = Array.from({ length: ITEM_COUNT }, (_, id) => itemPath(id));
    const seconds = Number(values.seconds);
    const connections = Number(values.connections);
    const rate = values.rate === undefined ? undefined : Number(values.rate);
    if (rate !== undefined && !(rate > 0))
      throw new Error(`--rate must be a positive number, not ${values.rate}`);
    const fixed = rate === undefined ? {} : { rate };
    for (const { port } of servers) {
      for (const path of [...paths, ...paths])
        await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer();
      await burst(child, { port, seconds: 2, connections, kind, paths, burst: 'warm-up', ...fixed });
    }
    const cpu = new Map<string, number[]>(ids.map((id) => [id, []]));
    const served = new Map<string, number[]>(ids.map((id) => [id, []]));
    for (let round = 0; round < Number(values.rounds); round++) {
      // Each variant goes first as often as last.
      for (const { id, port } of round % 2 === 0 ? servers : [...servers].reverse()) {
        // Each burst starts with an empty young generation: the previous variant's short-lived garbage
        // would otherwise be collected, and counted, during this one's. (A full collection would also
        // age the code of the variants waiting their turn, and V8 drops old code at full collections.)
        collectGarbage();
        const before = process.cpuUsage();
        const result = await burst(child, {
          port,
          seconds,
          connections,
          kind,
          paths,
          burst: `r${round}`,
          ...fixed,
        });
        const used = process.cpuUsage(before);
        cpu.get(id)?.push((used.user + used.system) / Math.max(1, result.responses2xx));
        served.get(id)?.push(result.requestsPerSecond);
      }
    }
    const reference = ids[0] ?? '';
    console.log(
      `${values.path}, ${values.rounds} rounds of ${seconds} s, ${connections} connections${rate === undefined ? '' : `, ${rate} req/s each`}; ratios to ${reference}, per round:`,
    );
    for (const id of ids) {
      const cpuRatios = (cpu.get(id) ?? []).map(
        (value, round) => value / (cpu.get(reference)?.[round] ?? Number.NaN),
      );
      const rateRatios = (served.get(id) ?? []).map(
        (value, round) => value / (served.get(reference)?.[round] ?? Number.NaN),
      );
      console.log(
        `${id.padEnd(22)} CPU per response ${median(cpu.get(id) ?? [])
          .toFixed(0)
          .padStart(4)} µs, ${median(served.get(id) ?? [])
          .toFixed(0)
          .padStart(5)} req/s; ` +
          `CPU × ${median(cpuRatios).toFixed(3)} [${cpuRatios.map((ratio) => ratio.toFixed(2)).join(' ')}], req/s × ${median(rateRatios).toFixed(3)}`,
      );
    }
  } finally {
    child.kill();
    for (const { server, close } of servers) {
      server.close();
      await close().catch(() => undefined);
    }
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureAnnouncementDelays } from './announcement-delays.js';
import { AnnouncementListener } from './announcement-listener.js';
import { AppInstance } from './app-instance.js';
import { DataSource } from './data-source.js';
import { auditFailures } from './failure-audit.js';
import { injectFaults } from './fault-injector.js';
import { planFaults } from './fault-plan.js';
import { closeConnections } from './http-call.js';
import type { InstanceConfig } from './instance-protocol.js';
import { LoadDriver } from './load-driver.js';
import { ANNOUNCEMENT_CHANNEL, productsByCacheKey } from './product-keys.js';
import { RedisProcess } from './redis-process.js';
import { RunClock } from './run-clock.js';
import { buildResult, renderMarkdown, renderText } from './soak-report.js';
import { parseSoakSettings, type SoakSettings } from './soak-settings.js';
import { judgeReads } from './version-oracle.js';

// `npm run soak [-- --minutes 2 --gets-per-second 200 --puts-per-second 5]`: see soak/README.md.
const TIERED = 'tiered';
const PLAIN = 'plain';
const PROGRESS_EVERY_MS = 10_000;
// The last PUTs' announcements may reach the driver's subscriber just after their answers did.
const LAST_ANNOUNCEMENTS_MS = 1000;

async function main(settings: SoakSettings): Promise<boolean> {
  const loadMs = Math.round(settings.minutes * 60_000);
  // Every run is bounded: past twice its planned length (plus start-up and drain) it gives up, and
  // the exit handlers kill redis-server and the instances.
  setTimeout(
    () => {
      console.error('soak: time limit reached, stopping');
      process.exit(2);
    },
    2 * loadMs + 120_000,
  ).unref();

  const environment = {
    node: process.version,
    redis: redisVersion(),
    code: codeVersion(),
    startedAt: new Date().toISOString(),
  };
  const redis = await RedisProcess.start();
  const dataSource = new DataSource(settings.products, settings.dataSourceLatencyMs);
  await dataSource.start();
  const instanceConfig = (name: string, memoryTierTtlMs: number | undefined): InstanceConfig => ({
    name,
    redisUrl: redis.url,
    dataSourceUrl: dataSource.url,
    memoryTierTtlMs,
    ttlSeconds: settings.ttlSeconds,
    staleTtlSeconds: settings.staleTtlSeconds,
    staleWhileRevalidate: settings.staleWhileRevalidate,
    redisTimeoutMs: settings.redisTimeoutMs,
    invalidate: !settings.skipInvalidation,
  });
  const instances = await Promise.all([
    AppInstance.start(instanceConfig(TIERED, settings.memoryTierTtlMs)),
    AppInstance.start(instanceConfig(PLAIN, undefined)),
  ]);
  console.log(
    `soak: ${settings.minutes} min, Redis ${environment.redis} on ${redis.url}, data source on ${dataSource.url}, instances ${instances.map((instance) => `${instance.name} ${instance.baseUrl}`).join(', ')}${settings.skipInvalidation ? ' — WITHOUT INVALIDATION (oracle self-check)' : ''}`,
  );

  const listener = await AnnouncementListener.start(redis.url, ANNOUNCEMENT_CHANNEL);

  const clock = new RunClock();
  const driver = new LoadDriver(
    {
      targets: instances.map(({ name, baseUrl }) => ({ name, baseUrl })),
      products: settings.products,
      getsPerSecond: settings.getsPerSecond,
      putsPerSecond: settings.putsPerSecond,
      requestTimeoutMs: settings.requestTimeoutMs,
    },
    clock,
  );
  const loadStartMs = clock.now();
  driver.start();
  const progress = setInterval(() => {
    const failed = driver.gets.filter((get) => get.failure !== undefined).length;
    console.log(
      `  ${(clock.now() / 1000).toFixed(0)} s: ${driver.gets.length} GET (${failed} not answered normally), ${driver.puts.length} PUT`,
    );
  }, PROGRESS_EVERY_MS);
  const faults = await injectFaults(
    settings.skipFaults ? [] : planFaults(loadMs),
    { redis, dataSource },
    clock,
    loadStartMs,
    (fault) =>
      console.log(
        `  ${fault.kind} from ${(fault.startMs / 1000).toFixed(1)} s to ${(fault.endMs / 1000).toFixed(1)} s`,
      ),
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, loadStartMs + loadMs - clock.now())));
  const loadSeconds = Math.round((clock.now() - loadStartMs) / 100) / 10;
  // Requests in flight when the load stops are answered before anything is stopped: a request the
  // soak's own shutdown broke would be a false failure.
  await driver.drain();
  clearInterval(progress);
  await new Promise((resolve) => setTimeout(resolve, LAST_ANNOUNCEMENTS_MS));
  listener.stop();

  const instanceReports = await Promise.all(instances.map((instance) => instance.report()));
  await Promise.all(instances.map((instance) => instance.stop()));
  closeConnections();
  await redis.stop();
  await dataSource.stop();

  const result = buildResult({
    settings,
    environment,
    loadSeconds,
    gets: driver.gets,
    puts: driver.puts,
    skippedByDriver: driver.skipped,
    audit: auditFailures(driver.gets, driver.puts, faults, {
      entryMs: (settings.ttlSeconds + settings.staleTtlSeconds) * 1000,
      tieredInstance: TIERED,
      tierMs: settings.memoryTierTtlMs,
    }),
    verdict: judgeReads(driver.gets, driver.puts, {
      tieredInstance: TIERED,
      tierBoundMs: settings.memoryTierTtlMs,
    }),
    announcements: {
      ...measureAnnouncementDelays(driver.puts, listener.heard, productsByCacheKey(settings.products)),
      subscriber: {
        reconnections: listener.reconnections,
        connectionErrors: listener.connectionErrors,
        unreadable: listener.unreadable,
      },
    },
    faults,
    dataSource: { ...dataSource.counters },
    instances: instanceReports,
  });
  console.log(`\n${renderText(result)}\n\n${renderMarkdown(result)}\n`);
  mkdirSync(dirname(settings.outputPath), { recursive: true });
  writeFileSync(settings.outputPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`full result: ${settings.outputPath}`);
  if (settings.recordsPath !== undefined) {
    writeFileSync(
      settings.recordsPath,
      JSON.stringify({ gets: driver.gets, puts: driver.puts, faults, announcements: listener.heard }),
    );
    console.log(`every request: ${settings.recordsPath}`);
  }
  return result.passed;
}

/** The commit the cache's code comes from, `-modified` when `src/` differs from it; `unknown` outside git. */
function codeVersion(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'pipe' })
      .toString()
      .trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') === '' ? '' : '-modified'}`;
  } catch {
    return 'unknown';
  }
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? 'unknown';
  } catch {
    throw new Error('redis-server is not on PATH: install it (Debian: apt-get install redis-server)');
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

let settings: SoakSettings;
try {
  settings = parseSoakSettings(
    process.argv.slice(2),
    process.env,
    fileURLToPath(new URL('./results/latest.json', import.meta.url)),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(64);
}
main(settings).then(
  (passed) => process.exit(passed ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);

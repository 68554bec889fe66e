import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { createCache, createRedisClient } from '../src/index.js';
import { DataSourceClient } from './data-source-client.js';
import type { DriverMessage, InstanceConfig, InstanceMessage, InstanceReport } from './instance-protocol.js';
import { createProductApp } from './product-app.js';
import { CACHE_PREFIX } from './product-keys.js';

// One app instance of the soak, in its own process: forked by app-instance.ts with its config as argv[2].
const MAX_ERROR_KINDS = 20;

function send(message: InstanceMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as InstanceConfig;
  const cacheFailures: Record<string, number> = {};
  const appErrors: Record<string, number> = {};
  let redisClientErrors = 0;
  let circuitOpened = 0;

  const redis = createRedisClient({ url: config.redisUrl, connectTimeoutMs: 1000, maxReconnectDelayMs: 500 });
  // Every Redis outage of the soak ends up here; without a listener node-redis would crash the process.
  redis.on('error', () => {
    redisClientErrors += 1;
  });
  await redis.connect();

  const cache = createCache({
    redis,
    prefix: CACHE_PREFIX,
    name: config.name,
    ttl: config.ttlSeconds,
    staleTtl: config.staleTtlSeconds,
    staleWhileRevalidate: config.staleWhileRevalidate,
    redisTimeoutMs: config.redisTimeoutMs,
    ...(config.memoryTierTtlMs === undefined ? {} : { memoryTier: { ttlMs: config.memoryTierTtlMs } }),
    registry: false,
    // Faults are the point of the soak: its report counts them, a log line per failure would drown it.
    logger: winston.createLogger({ silent: true }),
  });
  cache.events.on('failure', ({ operation }) => {
    cacheFailures[operation] = (cacheFailures[operation] ?? 0) + 1;
  });
  cache.events.on('circuit', ({ open }) => {
    if (open) circuitOpened += 1;
  });

  const app = createProductApp(cache, {
    dataSource: new DataSourceClient(config.dataSourceUrl),
    invalidate: config.invalidate,
    onAppError: (error) => {
      const kind = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (kind in appErrors || Object.keys(appErrors).length < MAX_ERROR_KINDS) {
        appErrors[kind] = (appErrors[kind] ?? 0) + 1;
      }
    },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 30_000;

  const report = (): InstanceReport => ({
    name: config.name,
    cacheStats: numericFields(cache.stats()),
    cacheFailures,
    circuitOpened,
    redisClientErrors,
    appErrors,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    await cache.close().catch(() => undefined);
    redis.destroy();
    process.exit(0);
  };
  process.on('message', (message: DriverMessage) => {
    if (message.type === 'report') send({ type: 'report', report: report() });
    else void stop();
  });
  // The driver went away (crashed or killed): never outlive it.
  process.on('disconnect', () => void stop());
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

function numericFields(stats: object): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).filter(([, value]) => typeof value === 'number'));
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});

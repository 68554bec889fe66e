import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { handlerRunCount } from './fixture-route.js';
import type { StartVariant } from './variants/variant.js';

/** Messages between the harness (parent) and a variant's server process (this file). */
export type ParentMessage =
  | { type: 'counters' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string }
  | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'counters'; handlerRuns: number; cpuMicros: number }
  | { type: 'profiling' }
  | { type: 'profile-written'; path: string }
  | { type: 'failed'; message: string };

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const [variantId, redisUrl = ''] = process.argv.slice(2);
  if (variantId === undefined || !/^[a-z0-9-]+$/.test(variantId))
    throw new Error('usage: variant-child <variant-id> <redis-url>');
  const module = (await import(`./variants/${variantId}.js`)) as { startVariant: StartVariant };
  const variant = await module.startVariant({ redisUrl, redisPort: Number(new URL(redisUrl).port) });
  const server = variant.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    // Handlers still waiting on their 20 ms timer would otherwise write to a closed Redis client.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await variant.close().catch(() => {});
    process.exit(0);
  };
  const profiler = new Session();
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') return void stop();
    if (message.type === 'profile-start') return void startProfile(profiler);
    if (message.type === 'profile-stop') return void stopProfile(profiler, message.path);
    const cpu = process.cpuUsage();
    send({ type: 'counters', handlerRuns: handlerRunCount(), cpuMicros: cpu.user + cpu.system });
  });
  // The harness went away (crashed or killed): never outlive it.
  process.on('disconnect', () => void stop());
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

/** Starts V8's sampling profiler in this process (the same one `node --cpu-prof` uses). */
async function startProfile(session: Session): Promise<void> {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  send({ type: 'profiling' });
}

/** Stops the profiler and writes a `.cpuprofile` (readable by Chrome DevTools) to `path`. */
async function stopProfile(session: Session, path: string): Promise<void> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  writeFileSync(path, JSON.stringify(profile));
  send({ type: 'profile-written', path });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send === undefined) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: 'failed', message } satisfies ChildMessage, () => process.exit(1));
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { findFreePort } from '../support/find-free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the demo as `npm start` does, with `env`; resolves with its first line once it listens. */
async function startDemo(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
    cwd: ROOT,
    // Node hands the parent's NODE_V8_COVERAGE to a child unless the env names it: c8 would merge the
    // demo's differently transpiled copy of src/ and report wrong figures.
    env: { ...env, NODE_V8_COVERAGE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const firstLine = await new Promise<string>((resolve, reject) => {
    // Bounds a hang, not speed: tsx compiles the demo on its first start.
    const timer = setTimeout(() => reject(new Error(`the demo did not start: ${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n')[0] ?? '';
      if (output.includes('\n') && line.includes('demo on')) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}: ${output}`));
    });
  });
  return { child, firstLine };
}

describe('The demo (npm start)', function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;
  let binDirectory: string | undefined;

  afterEach(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    if (binDirectory !== undefined) await rm(binDirectory, { recursive: true, force: true });
  });

  it('runs on a machine with only Node: an in-process store, said in one line, then MISS and HIT', async () => {
    // A PATH with node and nothing else: no redis-server to find, and nothing to download.
    binDirectory = await mkdtemp(path.join(os.tmpdir(), 'demo-path-'));
    await symlink(process.execPath, path.join(binDirectory, 'node'));
    const port = await findFreePort();
    const demo = await startDemo({
      PATH: binDirectory,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_LATENCY_MS: '5',
    });
    child = demo.child;
    expect(demo.firstLine).to.include('cache: an in-process store');
    expect(demo.firstLine).to.include('no redis-server on PATH');
    const url = `http://127.0.0.1:${port}/api/users/1`;
    const first = await fetch(url);
    const second = await fetch(url);
    expect([first.status, first.headers.get('x-cache'), second.headers.get('x-cache')]).to.deep.equal([
      200,
      'MISS',
      'HIT',
    ]);
    const exited = new Promise((resolve) => demo.child.once('exit', resolve));
    demo.child.kill('SIGINT');
    expect(await exited).to.equal(0);
  });

  it('serves the process health the dashboard links to beside the cache metrics: Node defaults and the event loop lag', async () => {
    const port = await findFreePort();
    const demo = await startDemo({ PATH: '', PORT: String(port), HOST: '127.0.0.1', DATA_LATENCY_MS: '5' });
    child = demo.child;
    await fetch(`http://127.0.0.1:${port}/api/users/1`);
    const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const families = new Set(
      [...page.matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((match) => `${match[1]} ${match[2]}`),
    );
    for (const family of [
      'nodejs_eventloop_lag_seconds gauge',
      'nodejs_eventloop_lag_p99_seconds gauge',
      'process_cpu_seconds_total counter',
      'process_resident_memory_bytes gauge',
      'nodejs_heap_size_used_bytes gauge',
      'cache_aside_request_duration_seconds histogram',
      'cache_aside_build_info gauge',
    ]) {
      expect(families.has(family), family).to.equal(true);
    }
    expect(page).to.match(/^nodejs_eventloop_lag_seconds \d/m);
  });
});

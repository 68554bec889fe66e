import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_UP_DEADLINE_MS } from './busy-machine.js';

/** Where to scrape, and how often. */
export interface PrometheusOptions {
  /** `host:port` of each target, all in one job. */
  targets: readonly string[];
  /** Label `job` of the targets. Default `'app'`. */
  jobName?: string;
  /** Default 1; rules are evaluated as often. */
  scrapeIntervalSeconds?: number;
  /** Rule files to load (absolute paths). */
  ruleFiles?: readonly string[];
}

/** One series of an instant vector. */
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range vector. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** An alert as `/api/v1/alerts` lists it. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/** A real Prometheus for one spec file, on a free loopback port, with its data in a temporary folder. */
export interface TestPrometheus {
  url: string;
  /** Evaluates `expr` now (`/api/v1/query`); rejects with Prometheus' error for a bad query. */
  query(expr: string): Promise<VectorSample[]>;
  /** Values of `label` on the series matching `selector` (`/api/v1/label/…/values`). */
  labelValues(label: string, selector: string): Promise<string[]>;
  /** Evaluates `expr` from `startSeconds` to `endSeconds` (Unix time) every `stepSeconds`. */
  queryRange(
    expr: string,
    startSeconds: number,
    endSeconds: number,
    stepSeconds: number,
  ): Promise<MatrixSeries[]>;
  /** The alerts pending or firing now (`/api/v1/alerts`). */
  alerts(): Promise<PrometheusAlert[]>;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 5_000;

/** Starts the `prometheus` binary on PATH; throws a clear message when it is not installed. */
export async function startPrometheus(options: PrometheusOptions): Promise<TestPrometheus> {
  const binary = findPrometheus();
  const dataDir = await mkdtemp(join(tmpdir(), 'prometheus-spec-'));
  const configFile = join(dataDir, 'prometheus.yml');
  // JSON is YAML, so the configuration needs no YAML writer.
  await writeFile(configFile, JSON.stringify(scrapeConfig(options)));
  try {
    return await startOnFreePort(binary, configFile, dataDir);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function scrapeConfig({
  targets,
  jobName = 'app',
  scrapeIntervalSeconds = 1,
  ruleFiles = [],
}: PrometheusOptions) {
  const interval = `${scrapeIntervalSeconds}s`;
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: ruleFiles,
    scrape_configs: [{ job_name: jobName, static_configs: [{ targets }] }],
  };
}

// Prometheus cannot report the port it got for :0, so a free port is picked first; another
// process may take it in between, hence a few attempts.
async function startOnFreePort(binary: string, configFile: string, dataDir: string): Promise<TestPrometheus> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const output = captureTail(child);
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(url, child, output);
      return {
        url,
        query: (expr) => query(url, expr),
        labelValues: (label, selector) => labelValues(url, label, selector),
        queryRange: (expr, start, end, step) => queryRange(url, expr, start, end, step),
        alerts: async () => (await api<{ alerts: PrometheusAlert[] }>(`${url}/api/v1/alerts`)).alerts,
        stop: async () => {
          process.removeListener('exit', killOnExit);
          await stopChild(child);
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      lastError = error;
      if (!/address already in use/.test(output())) break;
    }
  }
  throw lastError;
}

function findPrometheus(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('prometheus is not on PATH: install it (Debian: apt-get install -y prometheus)');
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(address)));
    });
  });
}

/** Keeps the last few kilobytes of stderr for error messages. */
function captureTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8_000);
  });
  return () => tail;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_UP_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`,
      );
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus did not answer ${url}/-/ready within ${START_UP_DEADLINE_MS} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as ApiResponse<T>;
  if (body.status !== 'success') throw new Error(`Prometheus API ${url}: ${body.error ?? response.status}`);
  return body.data;
}

async function query(url: string, expr: string): Promise<VectorSample[]> {
  const data = await api<{ resultType: string; result: VectorSample[] }>(
    `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
  );
  if (data.resultType !== 'vector')
    throw new Error(`expected an instant vector from ${expr}, got ${data.resultType}`);
  return data.result;
}

function labelValues(url: string, label: string, selector: string): Promise<string[]> {
  return api<string[]>(
    `${url}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(selector)}`,
  );
}

async function queryRange(
  url: string,
  expr: string,
  startSeconds: number,
  endSeconds: number,
  stepSeconds: number,
): Promise<MatrixSeries[]> {
  const params = new URLSearchParams({
    query: expr,
    start: String(startSeconds),
    end: String(endSeconds),
    step: String(stepSeconds),
  });
  const data = await api<{ resultType: string; result: MatrixSeries[] }>(
    `${url}/api/v1/query_range?${params}`,
  );
  if (data.resultType !== 'matrix')
    throw new Error(`expected a range vector from ${expr}, got ${data.resultType}`);
  return data.result;
}

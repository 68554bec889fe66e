import { type HttpAnswer, httpCall } from './http-call.js';
import { FAILURE_HEADER, REDIS_READ_HEADER } from './instance-protocol.js';
import { PUBLIC_HOST } from './product-keys.js';
import type { RunClock } from './run-clock.js';
import type { FailureCause, GetRecord, PutRecord } from './soak-records.js';

/** An instance the driver sends requests to. */
interface Target {
  name: string;
  baseUrl: string;
}

/** How much load, and where. */
export interface LoadSettings {
  targets: readonly Target[];
  products: number;
  getsPerSecond: number;
  putsPerSecond: number;
  requestTimeoutMs: number;
}

const TICK_MS = 5;
// After a stall of the driver itself, catch up by at most this many requests at once.
const MAX_BURST = 100;
const ROUTES = ['engine', 'http'] as const;

/**
 * Open-loop load: GETs and PUTs at fixed rates whatever the answers' latency (a closed loop would
 * slow down exactly when an outage should show), each sent to a random instance for a random
 * product. Records every request with its start and end on the run's clock.
 */
export class LoadDriver {
  readonly gets: GetRecord[] = [];
  readonly puts: PutRecord[] = [];
  readonly #settings: LoadSettings;
  readonly #clock: RunClock;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #getRate: Schedule;
  readonly #putRate: Schedule;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: LoadSettings, clock: RunClock) {
    this.#settings = settings;
    this.#clock = clock;
    this.#getRate = new Schedule(settings.getsPerSecond);
    this.#putRate = new Schedule(settings.putsPerSecond);
  }

  /** Requests the driver could not send in time (its own event loop stalled); 0 on a healthy run. */
  get skipped(): number {
    return this.#getRate.skipped + this.#putRate.skipped;
  }

  start(): void {
    const startedAtMs = this.#clock.now();
    this.#timer = setInterval(() => {
      const elapsedSeconds = (this.#clock.now() - startedAtMs) / 1000;
      for (let i = this.#getRate.due(elapsedSeconds); i > 0; i -= 1) this.#track(this.#get());
      for (let i = this.#putRate.due(elapsedSeconds); i > 0; i -= 1) this.#track(this.#put());
    }, TICK_MS);
  }

  /** Sends nothing more and waits for every request in flight (each is bounded by its timeout). */
  async drain(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track(request: Promise<void>): void {
    this.#inFlight.add(request);
    void request.finally(() => this.#inFlight.delete(request));
  }

  async #get(): Promise<void> {
    const target = pick(this.#settings.targets);
    const route = pick(ROUTES);
    const product = 1 + Math.floor(Math.random() * this.#settings.products);
    const startMs = this.#clock.now();
    const outcome = await this.#call(`${target.baseUrl}/${route}/products/${product}`, 'GET');
    const record: GetRecord = {
      product,
      instance: target.name,
      route,
      startMs,
      endMs: this.#clock.now(),
      status: 0,
    };
    if ('error' in outcome) {
      Object.assign(record, { failure: 'no-answer', detail: outcome.error });
    } else {
      const { answer } = outcome;
      record.status = answer.status;
      const cache = answer.headers['x-cache'];
      if (typeof cache === 'string') record.cache = cache;
      const version = answer.status === 200 ? versionIn(answer.body) : undefined;
      if (version !== undefined) record.version = version;
      else Object.assign(record, { failure: failureOf(answer), detail: answer.body.slice(0, 200) });
      if (record.failure === 'data-source')
        record.redisReadFailed = ['failed', 'queued'].includes(String(answer.headers[REDIS_READ_HEADER]));
    }
    this.gets.push(record);
  }

  async #put(): Promise<void> {
    const target = pick(this.#settings.targets);
    const product = 1 + Math.floor(Math.random() * this.#settings.products);
    const startMs = this.#clock.now();
    const outcome = await this.#call(`${target.baseUrl}/products/${product}`, 'PUT');
    const record: PutRecord = {
      product,
      instance: target.name,
      startMs,
      endMs: this.#clock.now(),
      status: 0,
      acknowledged: false,
    };
    if ('error' in outcome) {
      Object.assign(record, { failure: 'no-answer', detail: outcome.error });
    } else {
      const { answer } = outcome;
      record.status = answer.status;
      const version = answer.status === 200 || answer.status === 202 ? versionIn(answer.body) : undefined;
      if (version !== undefined) {
        record.version = version;
        record.acknowledged = answer.status === 200 && acknowledgedIn(answer.body);
        const invalidationStartedAtMs = numberIn(answer.body, 'invalidationStartedAtMs');
        const acknowledgedAtMs = numberIn(answer.body, 'acknowledgedAtMs');
        if (invalidationStartedAtMs !== undefined) record.invalidationStartedAtMs = invalidationStartedAtMs;
        if (acknowledgedAtMs !== undefined) record.acknowledgedAtMs = acknowledgedAtMs;
      } else {
        Object.assign(record, { failure: failureOf(answer), detail: answer.body.slice(0, 200) });
      }
    }
    this.puts.push(record);
  }

  async #call(url: string, method: 'GET' | 'PUT'): Promise<{ answer: HttpAnswer } | { error: string }> {
    try {
      return { answer: await httpCall(url, method, PUBLIC_HOST, this.#settings.requestTimeoutMs) };
    } catch (error) {
      return { error: String(error) };
    }
  }
}

/** How many requests of one rate are due at each tick. */
class Schedule {
  readonly #perSecond: number;
  #sent = 0;
  skipped = 0;

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  due(elapsedSeconds: number): number {
    const owed = Math.floor(elapsedSeconds * this.#perSecond) - this.#sent;
    const due = Math.min(MAX_BURST, owed);
    // A backlog beyond one burst is dropped, not sent later: the rate stays what was asked for.
    this.skipped += owed - due;
    this.#sent += owed;
    return due;
  }
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

function failureOf(answer: HttpAnswer): FailureCause {
  const label = answer.headers[FAILURE_HEADER];
  if (label === 'data-source') return 'data-source';
  if (label === 'app') return 'app';
  return 'unexpected-answer';
}

function parsed(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function versionIn(body: string): number | undefined {
  const version = parsed(body)?.version;
  return typeof version === 'number' && Number.isInteger(version) ? version : undefined;
}

function numberIn(body: string, field: string): number | undefined {
  const value = parsed(body)?.[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function acknowledgedIn(body: string): boolean {
  return parsed(body)?.acknowledged === true;
}

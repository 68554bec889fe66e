import { setTimeout as sleep } from 'node:timers/promises';

/** A record of the demo's data source. */
export type DemoRecord = Record<string, string | number>;

/** Simulates a slow database, as the seed's MockDataStore does; it can be told to fail. */
export class MockDataStore {
  readonly #records = new Map<string, DemoRecord>([
    ['user:1', { id: 1, name: 'Alice', email: 'alice@example.com' }],
    ['user:2', { id: 2, name: 'Bob', email: 'bob@example.com' }],
    ['product:1', { id: 1, name: 'Widget', price: 9.99 }],
    ['product:2', { id: 2, name: 'Gadget', price: 24.5 }],
  ]);
  readonly latencyMs: number;
  /** Queries served so far: a cache hit does not add to it. */
  queries = 0;
  /** While true, every query throws, as a database that went down would. */
  failing = false;

  constructor(latencyMs = 100) {
    this.latencyMs = latencyMs;
  }

  async get(key: string): Promise<DemoRecord | undefined> {
    this.queries++;
    await sleep(this.latencyMs);
    if (this.failing) throw new Error('data source unavailable');
    return this.#records.get(key);
  }

  async update(key: string, record: DemoRecord): Promise<void> {
    await sleep(this.latencyMs);
    if (this.failing) throw new Error('data source unavailable');
    this.#records.set(key, record);
  }
}

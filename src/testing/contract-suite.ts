import assert from 'node:assert/strict';
import type { CacheStore } from '../store/cache-store.js';
import type { StoreContractTestFunctions } from './store-contract.js';

/** What each group of cases registers with: the framework's functions and the store of the running case. */
export interface ContractSuite {
  readonly test: StoreContractTestFunctions;
  store(): CacheStore;
}

export const MINUTE_MS = 60_000;
export const SHORT_TTL_MS = 60;

/** Full key of a tag index set, as the cache names them. */
export const tagKey = (name: string): string => `c:__ca:tag:${name}`;

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Writes `value` (default: the key itself) as the application's own write. */
export function put(
  store: CacheStore,
  key: string,
  value = key,
  ttlMs = MINUTE_MS,
  tagKeys: string[] = [],
): Promise<unknown> {
  return store.set(key, bytes(value), { ttlMs, tagKeys });
}

/** The stored value of `key` as UTF-8, `undefined` when it is missing. */
export async function textOf(store: CacheStore, key: string): Promise<string | undefined> {
  return (await store.get(key))?.toString('utf8');
}

export function assertWithin(actual: number, lowest: number, highest: number): void {
  assert.ok(actual >= lowest && actual <= highest, `expected ${actual} to be within ${lowest}..${highest}`);
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`, which bounds a hang, not speed. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

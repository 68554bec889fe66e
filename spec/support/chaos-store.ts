import type {
  CacheStore,
  KeyScan,
  Lease,
  ScanPage,
  StoreSetOptions,
  StoreWriteResult,
  TaggedDeletion,
} from '../../src/store/cache-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** The methods of the {@link CacheStore} port. */
export type StoreMethod = Exclude<keyof CacheStore, 'name'>;

/** One call that reached a {@link ChaosStore}, in arrival order. */
export interface RecordedCall {
  method: StoreMethod;
  args: readonly unknown[];
}

/** Which calls a fault applies to; all methods when `only` is absent. */
export interface FaultScope {
  only?: readonly StoreMethod[];
}

/**
 * A {@link CacheStore} for fault injection: it forwards to `inner` (a fresh `MemoryStore` by
 * default), records every call, and on demand fails (`alwaysThrow`, `failNext`), slows down
 * (`delay`, driven by `setTimeout`, so sinon fake timers control it) or never answers (`hang`).
 * `heal()` turns every fault off.
 */
export class ChaosStore implements CacheStore {
  readonly name = 'chaos';
  readonly inner: CacheStore;
  readonly calls: RecordedCall[] = [];
  #error: Error | undefined;
  #failuresLeft = Number.POSITIVE_INFINITY;
  #failScope: FaultScope = {};
  #delayMs = 0;
  #delayScope: FaultScope = {};
  #hanging = false;

  constructor(inner: CacheStore = new MemoryStore()) {
    this.inner = inner;
  }

  /** Every call (or every call to `only`) rejects with `error` until `heal()`. */
  alwaysThrow(error: Error = new Error('chaos: backend unavailable'), scope: FaultScope = {}): this {
    this.#error = error;
    this.#failuresLeft = Number.POSITIVE_INFINITY;
    this.#failScope = scope;
    return this;
  }

  /** The next `count` calls in scope reject with `error`; later ones succeed again. */
  failNext(
    count: number,
    error: Error = new Error('chaos: transient failure'),
    scope: FaultScope = {},
  ): this {
    this.#error = error;
    this.#failuresLeft = count;
    this.#failScope = scope;
    return this;
  }

  /** Every call in scope answers `ms` milliseconds late (and then fails, if a failure is set). */
  delay(ms: number, scope: FaultScope = {}): this {
    this.#delayMs = ms;
    this.#delayScope = scope;
    return this;
  }

  /** Every call never settles, like a Redis that accepted the connection and went silent. */
  hang(): this {
    this.#hanging = true;
    return this;
  }

  /** Turns every fault off; recorded calls are kept. */
  heal(): this {
    this.#error = undefined;
    this.#delayMs = 0;
    this.#hanging = false;
    return this;
  }

  /** Recorded calls of one method. */
  callsTo(method: StoreMethod): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.#run('get', [key], () => this.inner.get(key));
  }

  getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    return this.#run('getMany', [keys], () => this.inner.getMany(keys));
  }

  /** Forwards to `inner`, which must have leases (a `MemoryStore` has). */
  readLease(): Promise<Lease> {
    return this.#run('readLease', [], async () => {
      if (this.inner.readLease === undefined) throw new Error('ChaosStore: the inner store has no leases');
      return this.inner.readLease();
    });
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: the port's own return type
  set(key: string, value: Buffer, options: StoreSetOptions): Promise<StoreWriteResult | void> {
    return this.#run('set', [key, value, options], () => this.inner.set(key, value, options));
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#run('delete', [keys], () => this.inner.delete(keys));
  }

  deleteTagged(tagKeys: readonly string[]): Promise<TaggedDeletion> {
    return this.#run('deleteTagged', [tagKeys], () => this.inner.deleteTagged(tagKeys));
  }

  deleteMatching(pattern: string, exceptPrefix?: string): Promise<number> {
    return this.#run('deleteMatching', [pattern, exceptPrefix], () =>
      this.inner.deleteMatching(pattern, exceptPrefix),
    );
  }

  ttlSeconds(key: string): Promise<number> {
    return this.#run('ttlSeconds', [key], () => this.inner.ttlSeconds(key));
  }

  expire(key: string, seconds: number): Promise<boolean> {
    return this.#run('expire', [key, seconds], () => this.inner.expire(key, seconds));
  }

  acquireLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#run('acquireLock', [key, token, ttlMs], () => this.inner.acquireLock(key, token, ttlMs));
  }

  releaseLock(key: string, token: string): Promise<boolean> {
    return this.#run('releaseLock', [key, token], () => this.inner.releaseLock(key, token));
  }

  /** Forwards to `inner`, which must be able to walk its keys (a `MemoryStore` can). */
  scanKeys(cursor: string, search: KeyScan): Promise<ScanPage<string>> {
    return this.#run('scanKeys', [cursor, search], async () => {
      if (this.inner.scanKeys === undefined) throw new Error('ChaosStore: the inner store has no scanKeys');
      return this.inner.scanKeys(cursor, search);
    });
  }

  /** Forwards to `inner`, which must be able to walk a tag's keys (a `MemoryStore` can). */
  scanTagMembers(tagKey: string, cursor: string, count: number): Promise<ScanPage<string>> {
    return this.#run('scanTagMembers', [tagKey, cursor, count], async () => {
      if (this.inner.scanTagMembers === undefined)
        throw new Error('ChaosStore: the inner store has no scanTagMembers');
      return this.inner.scanTagMembers(tagKey, cursor, count);
    });
  }

  async #run<T>(method: StoreMethod, args: readonly unknown[], forward: () => Promise<T>): Promise<T> {
    this.calls.push({ method, args });
    if (this.#hanging) return new Promise<T>(() => {});
    if (this.#delayMs > 0 && inScope(this.#delayScope, method)) {
      await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    }
    if (this.#error !== undefined && this.#failuresLeft > 0 && inScope(this.#failScope, method)) {
      this.#failuresLeft--;
      throw this.#error;
    }
    return forward();
  }
}

function inScope(scope: FaultScope, method: StoreMethod): boolean {
  return scope.only === undefined || scope.only.includes(method);
}

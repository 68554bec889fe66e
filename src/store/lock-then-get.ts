import type { CacheStore, LockAndValue } from './cache-store.js';

/**
 * `acquireLockAndGet` in two steps, for stores that cannot do both at once: the entry is read only
 * after the lock is ours, so the read still sees what the previous holder stored before releasing it.
 */
export async function lockThenGet(
  store: Pick<CacheStore, 'acquireLock' | 'get'>,
  lockKey: string,
  token: string,
  ttlMs: number,
  key: string,
): Promise<LockAndValue> {
  if (!(await store.acquireLock(lockKey, token, ttlMs))) return { acquired: false };
  return { acquired: true, value: await store.get(key) };
}

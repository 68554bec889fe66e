// (c) What a TypeScript app compiles against: the published declarations, under --strict, NodeNext.

import { afterEach, beforeEach, describe, it } from 'node:test';
import express from 'express';
import {
  type Cache,
  type CacheOptions,
  createCache,
  MemoryStore,
  metricsHandler,
  type ResponseCacheKeyTarget,
  type ResponseCacheOptions,
  responseCache,
  responseCacheKey,
} from 'express-cache-aside';
import {
  describeStoreContract,
  type StoreContractOptions,
  type StoreContractTestFunctions,
} from 'express-cache-aside/testing';
import { createClient } from 'redis';

// The app's own node-redis client is what `redis` takes.
const redis = createClient({ url: 'redis://127.0.0.1:6379' });
const options: CacheOptions = { redis, prefix: 'shop:', ttl: 60, staleTtl: 300, loadWaitMs: 2000 };
const cache: Cache = createCache(options);
const testCache: Cache = createCache({ store: new MemoryStore(), registry: false });

const itemRoute: ResponseCacheOptions<{ id: string }> = {
  ttl: (_req, res) => (res.statusCode === 200 ? 60 : undefined),
  tags: (req) => [`item:${req.params.id}`],
  query: { include: ['fields'] },
};

const app = express();
app.get('/items/:id', responseCache(cache, itemRoute), (req, res) => {
  res.json({ id: req.params.id });
});
app.get('/health', responseCache(testCache), (_req, res) => {
  res.send('ok');
});
app.put('/items/:id', async (req, res) => {
  const target: ResponseCacheKeyTarget = { url: `/items/${req.params.id}`, origin: req };
  const key: string = responseCacheKey(target);
  const removed: boolean = await cache.invalidate(key);
  const tagged: number = await cache.invalidateTags([`item:${req.params.id}`]);
  res.json({ removed, tagged });
});
app.get('/metrics', metricsHandler());

const value: Promise<{ name: string }> = cache.get('user:1', async () => ({ name: 'Ada' }));
void value;

// A custom store's author runs the contract with their test framework's functions (node:test's here).
const framework: StoreContractTestFunctions = { describe, it, beforeEach, afterEach };
const contract: StoreContractOptions = {
  name: 'MemoryStore',
  create: () => ({ store: new MemoryStore(), cleanup: () => undefined }),
  capabilities: ['readLease', 'renew', 'acquireLockAndGet'],
};
describeStoreContract(framework, contract);

// The declarations are real types, not `any`: each line below must be an error.
// @ts-expect-error ttl is a number or a function
responseCache(cache, { ttl: 'one minute' });
// @ts-expect-error createCache needs `redis` or `store` of the right shape
createCache({ store: 'memory' });
// @ts-expect-error responseCacheKey returns a string
const notANumber: number = responseCacheKey('https://shop.example/items/1');
void notANumber;
// @ts-expect-error capabilities are the optional CacheStore methods, by name
describeStoreContract(framework, { ...contract, capabilities: ['leases'] });

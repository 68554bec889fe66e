// A script as users write them: it caches one value, quits its own Redis client and forgets
// `cache.close()`. The cache's own connections (its invalidation subscriber) must not keep it alive.
import { createClient } from 'redis';
import { createCache } from '../../src/index.js';
import { silentLogger } from './silent-logger.js';

const redis = await createClient({ url: process.env.REDIS_URL }).connect();
const cache = createCache({
  redis,
  prefix: 'exit:',
  registry: false,
  logger: silentLogger,
});
console.log(JSON.stringify(await cache.get('answer', async () => 42)));
await redis.quit();

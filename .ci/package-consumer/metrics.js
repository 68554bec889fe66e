// (d) One prom-client: a cache created without `registry` reports into the app's own default registry.
import { createRequire } from 'node:module';
import { createCache, MemoryStore } from 'express-cache-aside';
import { register } from 'prom-client';

const cache = createCache({ store: new MemoryStore() });
const families = new Set((await register.metrics()).match(/^cache_aside_\w+/gm));
await cache.close();
if (families.size === 0) {
  const requireFromPackage = createRequire(import.meta.resolve('express-cache-aside'));
  console.error(`the app's registry has no cache_aside_ metrics`);
  console.error(`app's prom-client:     ${import.meta.resolve('prom-client')}`);
  console.error(`package's prom-client: ${requireFromPackage.resolve('prom-client')}`);
  process.exit(1);
}
console.log(`${families.size} cache_aside_ metric names in the app's own prom-client default registry`);

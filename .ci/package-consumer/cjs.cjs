// (b) The package from CommonJS: require() of an ES module (Node >= 20.19), sharing one instance with import().
const assert = require('node:assert/strict');

const warnings = [];
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));

const cacheAside = require('express-cache-aside');
for (const name of ['createCache', 'responseCache', 'responseCacheKey', 'metricsHandler', 'MemoryStore']) {
  assert.equal(typeof cacheAside[name], 'function', `${name} is exported`);
}
const key = cacheAside.responseCacheKey('https://shop.example/items/1');
assert.ok(typeof key === 'string' && key.includes('/items/1'), `responseCacheKey returned ${key}`);

import('express-cache-aside').then((imported) => {
  assert.equal(
    cacheAside.createCache,
    imported.createCache,
    'require() and import() share one module instance',
  );
  // Warnings are emitted on the next tick.
  setImmediate(() => {
    const warned = warnings.length === 0 ? 'no warning' : warnings.join('; ');
    console.log(`require() works on Node ${process.version}, same instance as import(); ${warned}`);
  });
});

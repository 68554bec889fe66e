import { expect } from 'chai';
import { createClient } from 'redis';
import { createCache } from '../../../src/index.js';
import { patientCache } from '../../support/patient-cache.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';

describe("the cache's own keys over real Redis", () => {
  const redis = useConnectedRedis();

  it('keeps a held stampede lock when invalidatePattern matches everything', async () => {
    const { client } = redis;
    // A busy machine's slow reply must not be given up: the lock must really be taken.
    const cache = patientCache(client, { prefix: 'own:' });
    let releaseLoader: () => void = () => undefined;
    const loading = cache.get(
      'item:1',
      () => new Promise<string>((resolve) => (releaseLoader = () => resolve('v'))),
    );
    const lockKey = 'own:__ca:lock:{own:item:1}';
    // The deadline bounds a hang, not speed.
    const deadline = performance.now() + 10_000;
    while ((await client.exists(lockKey)) === 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(await client.exists(lockKey)).to.equal(1);
    await client.set('own:other', 'x');

    await cache.invalidatePattern('*');

    expect(await client.exists('own:other')).to.equal(0);
    expect(await client.exists(lockKey)).to.equal(1);
    releaseLoader();
    expect(await loading).to.equal('v');
    expect(await client.exists(lockKey)).to.equal(0);
    await cache.close();
  });

  it("refuses a client with node-redis's keyPrefix, which would make invalidatePattern delete nothing", async () => {
    const prefixed = createClient({ url: redis.server.url, keyPrefix: 'app:' });
    expect(() => createCache({ redis: prefixed, registry: false })).to.throw(TypeError, /keyPrefix/);
  });
});

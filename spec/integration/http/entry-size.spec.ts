import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache, responseCacheKey } from '../../../src/index.js';
import { patientCache } from '../../support/patient-cache.js';
import { useConnectedRedis } from '../../support/redis-server-fixture.js';
import { originOf, served } from '../../support/served.js';

const BODY_BYTES = 2048;

describe('What one cached response costs in Redis', () => {
  const redis = useConnectedRedis();

  it('stores a 2 KiB JSON response in at most 1.5 times its size, key and tag index included', async () => {
    const { client } = redis;
    // A busy machine's slow write must not be given up: the spec measures what it stores.
    const cache = patientCache(client, { prefix: 'shop:' });
    const app = express();
    const item = { id: 42, name: 'Item 42', description: 'x'.repeat(BODY_BYTES - 43) };
    app.get(
      '/api/items/:id',
      responseCache(cache, { tags: (req) => [`item:${req.params.id}`] }),
      (_req, res) => {
        res.json(item);
      },
    );
    const server = await served(app);
    const miss = await request(server).get('/api/items/42');
    expect(Buffer.byteLength(JSON.stringify(miss.body))).to.equal(BODY_BYTES);
    const entryKey = cache.entryKey(responseCacheKey({ url: '/api/items/42', origin: originOf(server) }));
    // The response goes out before the write; the deadline bounds a hang, not speed.
    const deadline = performance.now() + 10_000;
    while ((await client.exists(entryKey)) === 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const tagKeys = await client.keys('shop:__ca:tag:*');
    expect(tagKeys).to.have.length(1);
    const entryBytes = Number(await client.memoryUsage(entryKey));
    const tagBytes = Number(await client.memoryUsage(tagKeys[0] as string));
    const total = entryBytes + tagBytes;
    // The figure the README quotes; this spec fails if it grows past 1.5 × the body.
    expect(total, `entry ${entryBytes} B + tag index ${tagBytes} B`).to.be.at.most(1.5 * BODY_BYTES);
    await cache.close();
  });
});

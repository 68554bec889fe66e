import type { RequestListener } from 'node:http';
import { expect } from 'chai';
import { responseCacheKey } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { originOf, served } from '../../support/served.js';
import { createTestCache, getBytesFrom } from './http-spec-helpers.js';

/**
 * Fetches `/api/text` with `acceptEncoding`. Like any HTTP client, superagent decodes the body as its
 * `Content-Encoding` says, so a gzip body sent without that header would not read as the text.
 */
async function fetchText(app: RequestListener, acceptEncoding: string) {
  const response = await getBytesFrom(app, '/api/text', { 'Accept-Encoding': acceptEncoding });
  return { response, text: (response.body as Buffer).toString() };
}

describe('responseCache with compression', () => {
  for (const placement of ['before', 'after'] as const) {
    describe(`compression placed ${placement} the cache`, () => {
      it('never serves a gzip body to a client that did not accept gzip, whoever came first', async () => {
        const { cache } = createTestCache();
        const fixture = createFixtureApp({ cache, compression: placement });
        const orders = [
          ['gzip', 'identity', 'gzip', 'identity'],
          ['identity', 'gzip', 'identity', 'gzip'],
        ];
        for (const order of orders) {
          await cache.invalidate(
            responseCacheKey({ url: '/api/text', origin: originOf(await served(fixture.app)) }),
          );
          for (const acceptEncoding of order) {
            const { response, text } = await fetchText(fixture.app, acceptEncoding);
            expect(text).to.equal(fixture.textBody);
            if (acceptEncoding === 'identity') {
              expect(response.headers['content-encoding'], `${order.join()} ${acceptEncoding}`).to.equal(
                undefined,
              );
            } else {
              expect(response.headers['content-encoding']).to.equal('gzip');
            }
            expect(response.headers.vary).to.match(/accept-encoding/i);
          }
        }
      });
    });
  }

  it('placed before the cache, stores one identity entry that serves every encoding', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache, compression: 'before' });
    await fetchText(fixture.app, 'gzip');
    const { response } = await fetchText(fixture.app, 'identity');
    expect(response.headers['x-cache']).to.equal('HIT');
    expect(store.writes).to.have.length(1);
    expect(store.writes[0]?.bytes).to.be.greaterThan(fixture.textBody.length);
  });

  it('placed after the cache, stores the compressed bytes once per Accept-Encoding', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache, compression: 'after' });
    await fetchText(fixture.app, 'gzip');
    const gzipHit = await fetchText(fixture.app, 'gzip');
    const identityMiss = await fetchText(fixture.app, 'identity');
    expect(gzipHit.response.headers['x-cache']).to.equal('HIT');
    expect(identityMiss.response.headers['x-cache']).to.equal('MISS');
    const variantWrites = store.writes.filter(({ key }) => key.includes('accept-encoding='));
    expect(variantWrites).to.have.length(2);
    expect(Math.min(...variantWrites.map(({ bytes }) => bytes))).to.be.lessThan(fixture.textBody.length / 4);
  });
});

import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { responseCache } from '../../../src/index.js';
import { createFixtureApp } from '../../support/app-factory.js';
import { served } from '../../support/served.js';
import { createTestCache, getFrom } from './http-spec-helpers.js';

describe('responseCache HEAD and conditional requests', () => {
  it('answers HEAD from the GET entry, with headers and no body', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const get = await getFrom(fixture.app, '/api/json');
    const head = await request(await served(fixture.app)).head('/api/json');
    expect(head.headers['x-cache']).to.equal('HIT');
    expect(head.headers['content-length']).to.equal(get.headers['content-length']);
    expect(head.headers['content-type']).to.equal(get.headers['content-type']);
    expect(head.text).to.equal(undefined);
    expect(fixture.calls('json')).to.equal(1);
  });

  it('does not store the body-less response of a HEAD miss as the GET entry', async () => {
    const { cache, store } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const head = await request(await served(fixture.app)).head('/api/json');
    const get = await getFrom(fixture.app, '/api/json');
    expect(head.headers['x-cache']).to.equal('MISS');
    expect(get.headers['x-cache']).to.equal('MISS');
    expect(get.body).to.deep.equal({ message: 'hello', call: 2 });
    expect(store.writes).to.have.length(1);
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const { headers } = await getFrom(fixture.app, '/api/json');
    const revalidation = await getFrom(fixture.app, '/api/json', { 'If-None-Match': String(headers.etag) });
    expect(revalidation.status).to.equal(304);
    expect(revalidation.headers['x-cache']).to.equal('HIT');
    expect(revalidation.headers.etag).to.equal(headers.etag);
    expect(revalidation.headers['content-type']).to.equal(undefined);
    expect(revalidation.text).to.equal('');
  });

  it('answers an If-None-Match that does not match with the full response', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    await getFrom(fixture.app, '/api/json');
    const response = await getFrom(fixture.app, '/api/json', { 'If-None-Match': 'W/"other", "more"' });
    expect(response.status).to.equal(200);
    expect(response.body.call).to.equal(1);
  });

  it('answers If-None-Match from the ETag it computed for a streamed response', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const miss = await getFrom(fixture.app, '/api/streamed');
    const hit = await getFrom(fixture.app, '/api/streamed');
    expect(miss.headers.etag).to.equal(undefined);
    expect(hit.headers.etag).to.match(/^W\/"1b-/);
    const revalidation = await getFrom(fixture.app, '/api/streamed', {
      'If-None-Match': String(hit.headers.etag),
    });
    expect(revalidation.status).to.equal(304);
  });

  it('answers If-Modified-Since from the stored Last-Modified when there is no If-None-Match', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const { headers } = await getFrom(fixture.app, '/api/file');
    const notModified = await getFrom(fixture.app, '/api/file', {
      'If-Modified-Since': String(headers['last-modified']),
    });
    const modified = await getFrom(fixture.app, '/api/file', {
      'If-Modified-Since': new Date(Date.parse(String(headers['last-modified'])) - 60_000).toUTCString(),
    });
    expect(notModified.status).to.equal(304);
    expect(modified.status).to.equal(200);
  });

  it('runs the handler of the leading request without the client’s validators, so it stores a full response', async () => {
    const { cache } = createTestCache();
    const app = express();
    app.get('/doc', responseCache(cache), (_req, res) => res.set('ETag', '"v1"').send('document'));
    const first = await getFrom(app, '/doc', { 'If-None-Match': '"v1"' });
    const second = await getFrom(app, '/doc');
    expect(first.status).to.equal(200);
    expect(second.headers['x-cache']).to.equal('HIT');
    expect(second.text).to.equal('document');
  });

  it('answers HEAD with 304 too when its validator matches', async () => {
    const { cache } = createTestCache();
    const fixture = createFixtureApp({ cache });
    const { headers } = await getFrom(fixture.app, '/api/json');
    const head = await request(await served(fixture.app))
      .head('/api/json')
      .set('If-None-Match', String(headers.etag));
    expect(head.status).to.equal(304);
  });
});

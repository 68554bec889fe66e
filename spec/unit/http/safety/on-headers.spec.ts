import { expect } from 'chai';
import type { RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { type Cache, responseCache } from '../../../../src/index.js';
import type { ExpressModule } from '../../../support/app-factory.js';
import { createTestCache } from '../http-spec-helpers.js';
import { type CountedApp, client, EXPRESS_MAJORS, jsonOf, setCookiesOf } from './safety-helpers.js';

/** A header a middleware adds inside its `on-headers` hook, and why the response must not be stored. */
interface HookedHeader {
  name: string;
  value: string;
  /** The `reason` of the `request` event; `undefined` for a harmless header. */
  reason: 'set-cookie' | 'private' | 'no-store' | 'no-cache' | undefined;
}

const FORBIDDEN: readonly HookedHeader[] = [
  { name: 'Set-Cookie', value: 'hooked=visitor; Path=/; HttpOnly', reason: 'set-cookie' },
  { name: 'Cache-Control', value: 'private', reason: 'private' },
  { name: 'Cache-Control', value: 'no-store', reason: 'no-store' },
  { name: 'Cache-Control', value: 'no-cache', reason: 'no-cache' },
];

/** Where the middleware that registers the hook sits. */
type Placement =
  | 'app.use before a per-route cache'
  | 'app.use before an app-wide cache'
  | 'between the cache and the handler';

const PLACEMENTS: readonly Placement[] = [
  'app.use before a per-route cache',
  'app.use before an app-wide cache',
  'between the cache and the handler',
];

type HandlerStyle = 'res.json' | 'res.writeHead(200, headers) + res.end' | 'res.write + res.end';

const STYLES: readonly HandlerStyle[] = [
  'res.json',
  'res.writeHead(200, headers) + res.end',
  'res.write + res.end',
];

function send(res: Response, style: HandlerStyle, headers: Record<string, string>, body: object): void {
  const text = JSON.stringify(body);
  if (style === 'res.writeHead(200, headers) + res.end') {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (style === 'res.json') {
    res.json(body);
  } else {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.write(text.slice(0, 3));
    res.end(text.slice(3));
  }
}

/**
 * An app where a plain middleware registers an `on-headers` hook that sets `hooked` as the headers go
 * out. `/plain` sets no header of its own; `/public` says `Cache-Control: public, max-age=60`, which
 * a hooked `Cache-Control` replaces.
 */
function hookedApp(
  express: ExpressModule,
  cache: Cache,
  hooked: HookedHeader,
  { placement, style }: { placement: Placement; style: HandlerStyle },
): CountedApp {
  const app = express();
  let calls = 0;
  const hook: RequestHandler = (_req, res, next) => {
    const startedAt = process.hrtime.bigint();
    onHeaders(res, function setHookedHeader(this: Response) {
      this.setHeader(hooked.name, hooked.value);
    });
    // A second, harmless hook, as response-time middleware adds.
    onHeaders(res, function setResponseTime(this: Response) {
      this.setHeader('X-Hook-Ran', `${Number(process.hrtime.bigint() - startedAt)}ns`);
    });
    next();
  };
  const handlers: Record<string, Record<string, string>> = {
    '/plain': {},
    '/public': { 'Cache-Control': 'public, max-age=60' },
  };
  if (placement !== 'between the cache and the handler') app.use(hook);
  if (placement === 'app.use before an app-wide cache') app.use(responseCache(cache));
  for (const [path, headers] of Object.entries(handlers)) {
    const chain: RequestHandler[] = [];
    if (placement === 'app.use before a per-route cache') chain.push(responseCache(cache));
    if (placement === 'between the cache and the handler') chain.push(responseCache(cache), hook);
    app.get(path, ...chain, (_req, res) => {
      calls++;
      send(res, style, headers, { path, call: calls });
    });
  }
  return { app, calls: () => calls };
}

describe('responseCache with on-headers hooks', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    for (const placement of PLACEMENTS) {
      for (const style of STYLES) {
        describe(`${major}, hook middleware ${placement}, handler sends with ${style}`, () => {
          for (const hooked of FORBIDDEN) {
            it(`never stores a response whose ${hooked.name}: ${hooked.value} a hook added as the headers went out`, async () => {
              const { cache, store, requests } = createTestCache();
              const { app, calls } = hookedApp(express, cache, hooked, { placement, style });
              const http = await client(app);

              for (const path of ['/plain', '/public']) {
                const first = await http.get(path);
                const second = await http.get(path);
                const sent = (response: typeof first) =>
                  hooked.name === 'Set-Cookie' ? setCookiesOf(response) : response.headers['cache-control'];
                const expected = hooked.name === 'Set-Cookie' ? [hooked.value] : hooked.value;
                expect(sent(first), `${path}: the client received the hooked header`).to.deep.equal(expected);
                expect(sent(second)).to.deep.equal(expected);
                expect(first.headers['x-cache'], path).to.equal('MISS');
                expect(second.headers['x-cache'], path).to.equal('MISS');
                expect(second.headers['x-hook-ran'], path).to.match(/^\d+ns$/);
                expect(jsonOf(first)).to.deep.equal({ path, call: calls() - 1 });
                expect(jsonOf(second)).to.deep.equal({ path, call: calls() });
              }
              expect(calls()).to.equal(4);
              expect(store.writes).to.deep.equal([]);
              expect(requests.map(({ result, reason }) => `${result}/${reason}`)).to.deep.equal(
                Array(4).fill(`miss/${hooked.reason}`),
              );
            });
          }

          it('stores a response whose hook only added a harmless X-Response-Time header, and replays it', async () => {
            const harmless: HookedHeader = { name: 'X-Response-Time', value: '1.5ms', reason: undefined };
            const { cache, store } = createTestCache();
            const { app, calls } = hookedApp(express, cache, harmless, { placement, style });
            const http = await client(app);

            for (const [index, path] of ['/plain', '/public'].entries()) {
              const first = await http.get(path);
              const second = await http.get(path);
              expect(first.headers['x-cache'], path).to.equal('MISS');
              expect(second.headers['x-cache'], path).to.equal('HIT');
              expect(jsonOf(first)).to.deep.equal({ path, call: index + 1 });
              expect(jsonOf(second)).to.deep.equal({ path, call: index + 1 });
              expect(second.headers['x-response-time'], path).to.equal('1.5ms');
              expect(second.headers['x-hook-ran'], path).to.match(/^\d+ns$/);
              expect(setCookiesOf(second)).to.deep.equal([]);
            }
            expect(calls()).to.equal(2);
            expect(store.writes).to.have.length(2);
          });
        });
      }
    }
  }
});

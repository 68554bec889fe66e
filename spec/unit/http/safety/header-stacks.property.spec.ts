import { expect } from 'chai';
import compression from 'compression';
import type { Express, RequestHandler, Response } from 'express';
import fc from 'fast-check';
import onHeaders from 'on-headers';
import { type Cache, responseCache } from '../../../../src/index.js';
import { type ExpressModule, express4, express5 } from '../../../support/app-factory.js';
import { closeServed } from '../../../support/served.js';
import { createTestCache } from '../http-spec-helpers.js';
import { client, jsonOf, mustNotBeStored, PADDING, setCookiesOf } from './safety-helpers.js';

/**
 * When a layer sets its header:
 * - `before-handler`: `res.setHeader` in a middleware mounted (app-wide) before the cache;
 * - `writeHead-hook`: inside an `on-headers` hook registered by a middleware before the cache;
 * - `after-cache`: `res.setHeader` in a middleware between the cache and the handler;
 * - `after-cache-hook`: inside an `on-headers` hook registered by a middleware between the cache and the handler;
 * - `writeHead-wrapper` / `after-cache-wrapper`: a middleware (before the cache / between it and the
 *   handler) that replaces `res.writeHead` by hand, without `on-headers`, and passes the header in the
 *   arguments it gives the `writeHead` it wrapped;
 * - `in-handler`: by the handler (`res.setHeader`, or in the `res.writeHead` headers);
 * - `res.cookie`: the handler calls `res.cookie` (the header is ignored).
 */
type Moment =
  | 'before-handler'
  | 'writeHead-hook'
  | 'after-cache'
  | 'after-cache-hook'
  | 'writeHead-wrapper'
  | 'after-cache-wrapper'
  | 'in-handler'
  | 'res.cookie';

interface HeaderChoice {
  name: string;
  value: string;
}

interface Layer {
  moment: Moment;
  header: HeaderChoice;
}

/** How the handler sends: the `res.writeHead` ones pass the in-handler headers as its argument. */
type HandlerStyle =
  | 'res.json'
  | 'res.send'
  | 'res.writeHead(200, headers)'
  | 'res.writeHead(200, reason, headers)'
  | 'res.writeHead(200, [name, value, ...])'
  | 'res.write';

interface Stack {
  layers: Layer[];
  major: 'Express 4' | 'Express 5';
  compression: 'none' | 'before' | 'after';
  style: HandlerStyle;
}

const MAJORS: Record<Stack['major'], ExpressModule> = { 'Express 4': express4, 'Express 5': express5 };

const setCookieName = fc.constantFrom('Set-Cookie', 'set-cookie', 'SET-COOKIE');
const cacheControlName = fc.constantFrom('Cache-Control', 'cache-control', 'CACHE-CONTROL');
/** A directive in lower case, UPPER case or Title-Case (directive names are case-insensitive). */
function anyCase(directive: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(directive, fc.constantFrom('lower', 'upper', 'title'))
    .map(([text, letterCase]) =>
      letterCase === 'lower'
        ? text
        : letterCase === 'upper'
          ? text.toUpperCase()
          : text.replace(
              /(^|-)([a-z])/g,
              (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
            ),
    );
}

/**
 * A `Cache-Control` that forbids storing: one of `private`, `no-store`, `no-cache` (qualified or not,
 * any case), alone or anywhere among harmless directives (`public, max-age=60, private`).
 */
const forbiddenCacheControl: fc.Arbitrary<string> = fc
  .tuple(
    fc.subarray(['public', 'max-age=60', 's-maxage=30']),
    anyCase(fc.constantFrom('private', 'no-store', 'no-cache', 'private="x-foo"', 'no-cache="set-cookie"')),
    fc.nat(),
    fc.constantFrom(', ', ',', ' , '),
  )
  .map(([others, forbidden, at, separator]) => {
    const directives = [...others];
    directives.splice(at % (directives.length + 1), 0, forbidden);
    return directives.join(separator);
  });

const forbiddenHeader: fc.Arbitrary<HeaderChoice> = fc.oneof(
  fc.record({ name: setCookieName, value: fc.constantFrom('sid=s3cr3t; Path=/; HttpOnly', 'theme=dark') }),
  fc.record({ name: cacheControlName, value: forbiddenCacheControl }),
);
const harmlessHeader: fc.Arbitrary<HeaderChoice> = fc.oneof(
  fc.record({ name: fc.constantFrom('X-Foo', 'x-foo'), value: fc.constantFrom('bar', 'baz') }),
  fc.record({
    name: cacheControlName,
    value: fc.constantFrom('public, max-age=60', 'max-age=60, Public', 'PUBLIC,S-MAXAGE=30'),
  }),
);
const layer: fc.Arbitrary<Layer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      moment: fc.constantFrom<Moment>(
        'before-handler',
        'writeHead-hook',
        'after-cache',
        'after-cache-hook',
        'writeHead-wrapper',
        'after-cache-wrapper',
        'in-handler',
      ),
      // Harmless headers twice as often as forbidden ones, so that harmless stacks are common too.
      header: fc.oneof(forbiddenHeader, harmlessHeader, harmlessHeader),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Layer>({
      moment: 'res.cookie',
      header: { name: 'Set-Cookie', value: 'pref=compact' },
    }),
  },
);
const stack: fc.Arbitrary<Stack> = fc.record({
  layers: fc.array(layer, { minLength: 0, maxLength: 4 }),
  major: fc.constantFrom<Stack['major']>('Express 4', 'Express 5'),
  compression: fc.constantFrom<Stack['compression']>('none', 'before', 'after'),
  style: fc.constantFrom<HandlerStyle>(
    'res.json',
    'res.send',
    'res.writeHead(200, headers)',
    'res.writeHead(200, reason, headers)',
    'res.writeHead(200, [name, value, ...])',
    'res.write',
  ),
});

/**
 * A stack on `major`, with `compression` placed and the handler sending by `style`; each layer is
 * written [moment, header name, header value].
 */
function exampleStack(
  major: Stack['major'],
  compression: Stack['compression'],
  style: HandlerStyle,
  layers: [Moment, string, string][],
): Stack {
  return {
    major,
    compression,
    style,
    layers: layers.map(([moment, name, value]) => ({ moment, header: { name, value } })),
  };
}

/** Stacks always tried first: a forbidden directive hidden among harmless ones, at each moment. */
const EXAMPLES: readonly Stack[] = [
  exampleStack('Express 5', 'none', 'res.json', [
    ['in-handler', 'Cache-Control', 'public, max-age=60, private'],
  ]),
  exampleStack('Express 4', 'before', 'res.write', [
    ['before-handler', 'Cache-Control', 'public, max-age=60'],
    ['writeHead-hook', 'cache-control', 'max-age=60,NO-STORE'],
  ]),
  exampleStack('Express 5', 'after', 'res.writeHead(200, reason, headers)', [
    ['after-cache-hook', 'CACHE-CONTROL', 'Public , No-Cache'],
  ]),
  exampleStack('Express 4', 'none', 'res.writeHead(200, [name, value, ...])', [
    ['after-cache', 'set-cookie', 'theme=dark'],
    ['in-handler', 'Cache-Control', 'public, max-age=60'],
  ]),
  exampleStack('Express 4', 'after', 'res.send', [['writeHead-hook', 'X-Foo', 'bar']]),
];

/** Builds the app of `stack`: its layers at their moments around one cached route, `/page`. */
function buildApp(cache: Cache, { layers, major, compression: placement, style }: Stack): Express {
  const app = MAJORS[major]();
  const setNow = ({ name, value }: HeaderChoice): RequestHandler =>
    function setHeaderNow(_req, res, next) {
      res.setHeader(name, value);
      next();
    };
  const setInHook = ({ name, value }: HeaderChoice): RequestHandler =>
    function setHeaderInHook(_req, res, next) {
      onHeaders(res, function hook(this: Response) {
        this.setHeader(name, value);
      });
      next();
    };
  const passInWriteHead = ({ name, value }: HeaderChoice): RequestHandler =>
    function wrapWriteHead(_req, res, next) {
      const wrapped = res.writeHead;
      const isOther = (key: unknown) => String(key).toLowerCase() !== name.toLowerCase();
      res.writeHead = function writeHead(this: Response, statusCode: number, ...rest: unknown[]) {
        // Forwards the caller's reason and headers, its own header added last (so it wins).
        const reason = typeof rest[0] === 'string' ? [rest[0]] : [];
        const given = typeof rest[0] === 'string' ? rest[1] : rest[0];
        let headers: unknown;
        if (Array.isArray(given)) {
          const pairs: unknown[] = [];
          for (let at = 0; at < given.length; at += 2) {
            if (isOther(given[at])) pairs.push(given[at], given[at + 1]);
          }
          headers = [...pairs, name, value];
        } else {
          const entries = Object.entries((given ?? {}) as Record<string, unknown>);
          headers = { ...Object.fromEntries(entries.filter(([key]) => isOther(key))), [name]: value };
        }
        return Reflect.apply(wrapped, this, [statusCode, ...reason, headers]) as Response;
      } as Response['writeHead'];
      next();
    };
  if (placement === 'before') app.use(compression());
  for (const { moment, header } of layers) {
    if (moment === 'before-handler') app.use(setNow(header));
    if (moment === 'writeHead-hook') app.use(setInHook(header));
    if (moment === 'writeHead-wrapper') app.use(passInWriteHead(header));
  }
  const chain: RequestHandler[] = [responseCache(cache)];
  if (placement === 'after') chain.push(compression());
  for (const { moment, header } of layers) {
    if (moment === 'after-cache') chain.push(setNow(header));
    if (moment === 'after-cache-hook') chain.push(setInHook(header));
    if (moment === 'after-cache-wrapper') chain.push(passInWriteHead(header));
  }
  let calls = 0;
  app.get('/page', ...chain, (_req, res) => {
    const body = JSON.stringify({ call: ++calls, padding: PADDING });
    // Headers given to writeHead: last one wins per name, as with setHeader.
    const headArguments = new Map<string, [string, string]>();
    for (const { moment, header } of layers) {
      if (moment === 'res.cookie') res.cookie('pref', 'compact');
      if (moment !== 'in-handler') continue;
      if (style.startsWith('res.writeHead')) {
        headArguments.set(header.name.toLowerCase(), [header.name, header.value]);
      } else {
        res.setHeader(header.name, header.value);
      }
    }
    const head: [string, string][] = [
      ['Content-Type', 'application/json; charset=utf-8'],
      ...headArguments.values(),
    ];
    if (style === 'res.json') {
      res.json(JSON.parse(body));
    } else if (style === 'res.send') {
      res.type('application/json').send(body);
    } else if (style === 'res.writeHead(200, headers)') {
      res.writeHead(200, Object.fromEntries(head));
      res.end(body);
    } else if (style === 'res.writeHead(200, reason, headers)') {
      res.writeHead(200, 'Fine', Object.fromEntries(head));
      res.end(body);
    } else if (style === 'res.writeHead(200, [name, value, ...])') {
      res.writeHead(200, head.flat());
      res.end(body);
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.write(body.slice(0, 10));
      res.end(body.slice(10));
    }
  });
  return app;
}

/**
 * What the client must receive, worked out from the order in which the layers run: setHeader before
 * the cache, then after it, then in the handler (the writeHead headers applied with it), then the
 * hooks and writeHead wrappers, the last registered first (each wraps the `writeHead` before it). The
 * last setter wins.
 */
function expectedHead(layers: readonly Layer[]): { cacheControl: string | undefined; setsCookie: boolean } {
  const before = layers.filter(({ moment }) => moment === 'before-handler');
  const afterCache = layers.filter(({ moment }) => moment === 'after-cache');
  const inHandler = layers.filter(({ moment }) => moment === 'in-handler' || moment === 'res.cookie');
  const hooksBefore = layers.filter(
    ({ moment }) => moment === 'writeHead-hook' || moment === 'writeHead-wrapper',
  );
  const hooksAfter = layers.filter(
    ({ moment }) => moment === 'after-cache-hook' || moment === 'after-cache-wrapper',
  );
  const order = [...before, ...afterCache, ...inHandler, ...hooksAfter.reverse(), ...hooksBefore.reverse()];
  let cacheControl: string | undefined;
  let setsCookie = false;
  for (const { header } of order) {
    const name = header.name.toLowerCase();
    if (name === 'cache-control') cacheControl = header.value;
    if (name === 'set-cookie') setsCookie = true;
  }
  return { cacheControl, setsCookie };
}

describe('responseCache under random middleware stacks (property)', () => {
  it('never stores or replays a response that reached the client with Set-Cookie or Cache-Control private/no-store/no-cache, and replays every other one', async function () {
    this.timeout(60_000);
    let forbiddenRuns = 0;
    let harmlessRuns = 0;
    await fc.assert(
      fc.asyncProperty(stack, async (generated) => {
        try {
          const { cache, store, requests } = createTestCache();
          const app = buildApp(cache, generated);
          const http = await client(app);

          const first = await http.get('/page');
          const second = await http.get('/page');

          // The stack did what the model says: the test exercises the headers it means to.
          const expected = expectedHead(generated.layers);
          expect(first.status).to.equal(200);
          expect(first.headers['cache-control'], 'Cache-Control received').to.equal(expected.cacheControl);
          expect(setCookiesOf(first).length > 0, 'Set-Cookie received').to.equal(expected.setsCookie);
          expect(first.headers['x-cache']).to.equal('MISS');
          expect(jsonOf(first).call).to.equal(1);

          if (mustNotBeStored(first)) {
            forbiddenRuns++;
            expect(store.writes, 'nothing stored').to.deep.equal([]);
            expect(second.headers['x-cache'], 'second response').to.not.equal('HIT');
            expect(second.headers['x-cache'], 'second response').to.equal('MISS');
            expect(jsonOf(second).call, 'the handler answered the second request').to.equal(2);
            expect(requests[0]?.reason).to.be.oneOf(['set-cookie', 'private', 'no-store', 'no-cache']);
          } else {
            harmlessRuns++;
            expect(second.headers['x-cache'], 'second response').to.equal('HIT');
            expect(jsonOf(second).call, 'replayed the first response').to.equal(1);
            expect(store.writes.length).to.be.greaterThan(0);
            expect(setCookiesOf(second)).to.deep.equal([]);
            expect(second.headers['cache-control'], 'Cache-Control replayed').to.equal(
              first.headers['cache-control'],
            );
            expect(second.headers['x-foo'], 'X-Foo replayed').to.equal(first.headers['x-foo']);
          }
        } finally {
          await closeServed();
        }
      }),
      { numRuns: 60, examples: EXAMPLES.map((example) => [example]) },
    );
    // Both branches of the property ran (the arbitraries make each likely; this guards against a
    // generator that drifted to one side).
    expect(forbiddenRuns, 'runs with a forbidden header').to.be.greaterThan(5);
    expect(harmlessRuns, 'runs without one').to.be.greaterThan(5);
  });
});

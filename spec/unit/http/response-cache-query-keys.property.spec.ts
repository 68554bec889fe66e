import { expect } from 'chai';
import fc from 'fast-check';
import { responseCache } from '../../../src/index.js';
import { type ExpressModule, express4, express5 } from '../../support/app-factory.js';
import { MANY_RUNS_TIMEOUT_MS } from '../../support/busy-machine.js';
import { rawGet } from '../../support/raw-request.js';
import { served } from '../../support/served.js';
import { createTestCache } from './http-spec-helpers.js';

/** What the handler of one request saw, and the key the cache looked it up under. */
interface Seen {
  key: string;
  path: string;
  query: unknown;
}

/** An app whose route is behind the cache (storing nothing, so every request reaches the handler). */
async function queryApp(express: ExpressModule, queryParser: 'default' | 'extended') {
  const { cache } = createTestCache();
  const app = express();
  if (queryParser === 'extended') app.set('query parser', 'extended');
  let lastKey = '';
  cache.events.on('lookup', ({ key }) => {
    lastKey = key;
  });
  let last: Seen | undefined;
  app.get('/q', responseCache(cache, { ttl: 0 }), (req, res) => {
    last = { key: lastKey, path: req.path, query: req.query };
    res.end();
  });
  const server = await served(app);
  return async (target: string): Promise<Seen> => {
    last = undefined;
    await rawGet(server, target);
    if (last === undefined) throw new Error(`the handler did not run for ${target}`);
    return last;
  };
}

const NAMES = ['tag', '%74ag', 'ta%67', 'a+b', 'a%20b', 'a[]', 'a%5B%5D', 'a[b]', 'a[c]', 'a', ''];
// Malformed escapes: `querystring` decodes what it can (`%74ag%ZZ` is `tag%ZZ`), `qs` and
// `decodeURIComponent` keep the text; a normaliser that decodes otherwise than the parser would merge
// lists the parser keeps apart.
const MORE_NAMES = ['__proto__', 'a.b', 'tag%ZZ', '%74ag%ZZ', '%', 'b', 'b[0]', 'b[1]', 'c[d][e]'];
const VALUES = ['', 'x', 'evil', 'safe', 'a+b', '%20', '1', '%E9'];

const parameter = fc
  .tuple(fc.constantFrom(...NAMES, ...MORE_NAMES), fc.option(fc.constantFrom(...VALUES), { nil: undefined }))
  .map(([name, value]) => (value === undefined ? name : `${name}=${value}`));
const fragment = fc.constantFrom('', '', '#frag', '#&tag=x', '#?a=1');

function target(parameters: readonly string[], suffix: string): string {
  return parameters.length === 0 ? `/q${suffix}` : `/q?${parameters.join('&')}${suffix}`;
}

/** Two targets: often a reordering of the same parameters (where collisions hide), sometimes unrelated. */
const targetPair = fc.oneof(
  fc
    .tuple(fc.array(parameter, { maxLength: 6 }), fragment, fragment)
    .chain(([parameters, left, right]) =>
      fc
        .shuffledSubarray(parameters, { minLength: parameters.length, maxLength: parameters.length })
        .map((shuffled) => [target(parameters, left), target(shuffled, right)] as const),
    ),
  fc.tuple(
    fc.array(parameter, { maxLength: 4 }).map((parameters) => target(parameters, '')),
    fc.array(parameter, { maxLength: 4 }).map((parameters) => target(parameters, '')),
  ),
);

const PARSERS: [string, ExpressModule, 'default' | 'extended'][] = [
  ["Express 4's default (extended) parser", express4, 'default'],
  ["Express 5's default (simple) parser", express5, 'default'],
  ["Express 5's extended parser", express5, 'extended'],
];

describe('cache keys of request targets (property)', () => {
  for (const [name, express, parser] of PARSERS) {
    describe(name, () => {
      it('share a key only when the handler gets the same req.path and req.query', async () => {
        const see = await queryApp(express, parser);
        await fc.assert(
          fc.asyncProperty(targetPair, async ([left, right]) => {
            const [a, b] = [await see(left), await see(right)];
            if (a.key !== b.key) return;
            expect(b.path, `${left} vs ${right}`).to.equal(a.path);
            expect(b.query, `${left} vs ${right}`).to.deep.equal(a.query);
          }),
          { numRuns: 300 },
        );
      }).timeout(MANY_RUNS_TIMEOUT_MS);

      it('share a key for any reordering of plainly named parameters', async () => {
        const see = await queryApp(express, parser);
        const plain = fc.array(
          fc
            .tuple(fc.constantFrom('a', 'b', 'c', 'page'), fc.constantFrom('1', '2', 'x'))
            .map(([n, v]) => `${n}=${v}`),
          { maxLength: 5 },
        );
        await fc.assert(
          fc.asyncProperty(
            fc
              .uniqueArray(fc.constantFrom('a', 'b', 'c', 'page'), { minLength: 1 })
              .chain((names) =>
                fc.tuple(
                  fc.constant(names.map((n, i) => `${n}=${i}`)),
                  fc.shuffledSubarray(names, { minLength: names.length, maxLength: names.length }),
                ),
              ),
            plain,
            async ([parameters, order], _unused) => {
              const reordered = order.map((n) => parameters.find((p) => p.startsWith(`${n}=`)) as string);
              const [a, b] = [await see(target(parameters, '')), await see(target(reordered, ''))];
              expect(b.key).to.equal(a.key);
            },
          ),
          { numRuns: 100 },
        );
      }).timeout(MANY_RUNS_TIMEOUT_MS);
    });
  }

  it('tells apart the targets the issue found colliding', async () => {
    const see = await queryApp(express5, 'default');
    const pairs = [
      ['/q?tag=evil&%74ag=safe', '/q?%74ag=safe&tag=evil'],
      ['/q?a+b=1&a%20b=2', '/q?a%20b=2&a+b=1'],
    ];
    for (const [left, right] of pairs) {
      const [a, b] = [await see(left as string), await see(right as string)];
      expect(a.query).not.to.deep.equal(b.query);
      expect(a.key, `${left} vs ${right}`).not.to.equal(b.key);
    }
    // Past 1,000 parameters the parsers drop the rest: which ones depends on their order.
    const filler = Array.from({ length: 999 }, (_, index) => `p${String(index).padStart(4, '0')}=1`);
    const [few, many] = [
      await see(`/q?${[...filler, 'z=1', 'a=1'].join('&')}`),
      await see(`/q?${[...filler, 'a=1', 'z=1'].join('&')}`),
    ];
    expect(few.query).not.to.deep.equal(many.query);
    expect(few.key).not.to.equal(many.key);
    const express4Brackets = await queryApp(express4, 'default');
    const [a, b] = [await express4Brackets('/q?a[]=1&a[]=2'), await express4Brackets('/q?a[]=2&a[]=1')];
    expect(a.key).not.to.equal(b.key);
  });
});

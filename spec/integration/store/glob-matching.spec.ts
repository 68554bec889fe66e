import { expect } from 'chai';
import fc from 'fast-check';
import { compileGlob } from '../../../src/keys/glob-match.js';
import { type RedisClient, useRedisServer } from '../../support/redis-server-fixture.js';

const ALPHABET = ['a', 'b', 'c', ']', '[', '-', '^', '\\', '*', '?'];

// The memory store and the memory tier match keys with compileGlob; Redis matches them with its
// own glob. Any difference means an invalidatePattern that deletes different entries per tier.
describe('compileGlob agrees with Redis glob matching', () => {
  const server = useRedisServer();
  let client: RedisClient;
  const keys: string[] = [];

  before(async () => {
    client = await server.connect();
    for (const first of ALPHABET) {
      keys.push(first);
      for (const second of ALPHABET) keys.push(first + second);
    }
    await client.mSet(keys.map((key) => [key, '1'] as [string, string]));
  });

  async function compare(pattern: string): Promise<void> {
    const redisMatches = (await client.keys(pattern)).sort();
    const matcher = compileGlob(pattern);
    const ourMatches = keys.filter((key) => matcher.test(key)).sort();
    expect(ourMatches, `pattern ${JSON.stringify(pattern)}`).to.deep.equal(redisMatches);
  }

  for (const pattern of [
    '[]]',
    '[\\]',
    '[',
    'a[b',
    '[^]',
    '[a-]',
    '[-a]',
    '[c-a]',
    '\\',
    '[\\]]',
    '[^]]',
    '[]a]',
    '[a',
  ]) {
    it(`matches like Redis for ${JSON.stringify(pattern)}`, async () => {
      await compare(pattern);
    });
  }

  it('matches like Redis for random patterns over glob metacharacters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 5 }),
        async (chars) => {
          await compare(chars.join(''));
        },
      ),
      { numRuns: 400 },
    );
  });
});

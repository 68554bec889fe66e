import { expect } from 'chai';
import fc from 'fast-check';
import { createClient } from 'redis';
import { globToRegExp } from '../../../src/keys/glob-to-regexp.js';
import { START_UP_HOOK_TIMEOUT_MS } from '../../support/busy-machine.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

const connect = (url: string) => createClient({ url }).connect();
type Client = Awaited<ReturnType<typeof connect>>;

const ALPHABET = ['a', 'b', 'c', ']', '[', '-', '^', '\\', '*', '?'];

// The memory store and the memory tier match keys with globToRegExp; Redis matches them with its
// own glob. Any difference means an invalidatePattern that deletes different entries per tier.
describe('globToRegExp agrees with Redis glob matching', () => {
  let server: TestRedis;
  let client: Client;
  const keys: string[] = [];

  before(async function () {
    this.timeout(START_UP_HOOK_TIMEOUT_MS);
    server = await startRedis();
    client = await connect(server.url);
    for (const first of ALPHABET) {
      keys.push(first);
      for (const second of ALPHABET) keys.push(first + second);
    }
    await client.mSet(keys.map((key) => [key, '1'] as [string, string]));
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  async function compare(pattern: string): Promise<void> {
    const redisMatches = (await client.keys(pattern)).sort();
    const matcher = globToRegExp(pattern);
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

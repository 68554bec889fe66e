// src/ARCHITECTURE.md is where a newcomer looks first: a path it names that no longer exists, or a
// layer folder or behaviour it forgets, sends them to the wrong place.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

const SRC = join(import.meta.dirname, '../../src');
const MAP = readFileSync(join(SRC, 'ARCHITECTURE.md'), 'utf8');

/** Every `path.ts` or `folder/` in backticks. */
function pathsNamed(text: string): string[] {
  return [...text.matchAll(/`([a-z-]+\/(?:[a-z-]+\.ts)?|[a-z-]+\.ts)`/g)].map((match) => match[1] as string);
}

describe('src/ARCHITECTURE.md', () => {
  it('names only files and folders that exist under src/', () => {
    const named = pathsNamed(MAP);
    expect(named.length, 'paths named').to.be.above(40);
    expect(named.filter((path) => !existsSync(join(SRC, path)))).to.deep.equal([]);
  });

  it('has a row for every folder of src/', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${entry.name}/`);
    const rows = new Set(pathsNamed(MAP.split('## Behaviours')[0] ?? ''));
    expect(folders.filter((folder) => !rows.has(folder))).to.deep.equal([]);
  });

  it('maps each behaviour a newcomer asks about to a file', () => {
    const behaviours = MAP.split('## Behaviours')[1]?.split('## ')[0] ?? '';
    const rowOf = (name: string) => behaviours.split('\n').find((line) => line.startsWith(`| ${name}`));
    for (const name of [
      'Hit',
      'Miss',
      'Stale',
      'Response not stored',
      'Request kept out of the cache (bypass)',
      'Cross-instance lock',
      'Circuit breaker',
      'Invalidation',
      'Metrics and their labels',
      'Codec layers',
    ]) {
      const row = rowOf(name);
      expect(row, `a row for "${name}"`).to.be.a('string');
      expect(pathsNamed(row ?? ''), `files for "${name}"`).to.not.be.empty;
    }
  });
});

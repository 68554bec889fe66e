import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildLibrary, importBuilt } from './built-library.js';
import type { LoadLibrary } from './variants/ours.js';

/** Environment variable that hands the `--before` revision's built library (its `index.js`) to the variant processes. */
export const BEFORE_SRC_ENV = 'BENCH_BEFORE_SRC';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
/** Where revisions are extracted (git-ignored by `bench/.gitignore`). */
const EXTRACTED = fileURLToPath(new URL('./.before', import.meta.url));
const COMPLETE = '.complete';

/** A revision's `src/`, extracted beside the benchmark, and built as this checkout's is. */
export interface BeforeRevision {
  /** Abbreviated commit hash, for labels. */
  shortHash: string;
  /** Absolute path of its `src/` folder. */
  srcDir: string;
  /** Absolute path of its built `index.js` (see `built-library.ts`). */
  built: string;
}

/**
 * Extracts `src/` at git revision `revision` (any name `git rev-parse` takes) into
 * `bench/.before/<commit>/src`, once per commit. Its bare imports resolve to this checkout's
 * `node_modules` (a symlink beside it), the packages the current `src/` runs with, so that the two
 * differ by their own code only.
 */
export function extractRevision(revision: string): BeforeRevision {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', REPOSITORY, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', `${revision}^{commit}`);
  } catch {
    throw new Error(`--before: '${revision}' is not a commit of this repository`);
  }
  const shortHash = git('rev-parse', '--short', commit);
  const root = join(EXTRACTED, commit);
  const srcDir = join(root, 'src');
  if (!existsSync(join(root, COMPLETE))) extract(commit, shortHash, root);
  checkLoads(shortHash, srcDir);
  return { shortHash, srcDir, built: buildLibrary(srcDir, `before-${shortHash}`) };
}

function extract(commit: string, shortHash: string, root: string): void {
  const srcDir = join(root, 'src');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = execFileSync('git', ['-C', REPOSITORY, 'archive', '--format=tar', commit, 'src'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive });
  if (untar.status !== 0)
    throw new Error(`--before: could not extract src/ of ${shortHash}: ${untar.stderr}`);
  if (!existsSync(join(srcDir, 'index.ts'))) throw new Error(`--before: ${shortHash} has no src/index.ts`);
  symlinkSync(join(REPOSITORY, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, COMPLETE), `${commit}\n`);
}

/**
 * Imports the revision's library in a throw-away process, so that one that cannot run here (a
 * package it imports is not installed in this checkout) fails now, not after minutes of rounds.
 */
function checkLoads(shortHash: string, srcDir: string): void {
  const entry = pathToFileURL(join(srcDir, 'index.ts')).href;
  const loaded = spawnSync(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      '--input-type=module',
      '--eval',
      `await import(${JSON.stringify(entry)});`,
    ],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_V8_COVERAGE: '' } },
  );
  if (loaded.status === 0) return;
  const reason =
    /Cannot find (?:package|module) '[^']+'/.exec(loaded.stderr)?.[0] ?? loaded.stderr.trim().split('\n')[0];
  throw new Error(
    `--before: the src/ of ${shortHash} does not load with this checkout's node_modules (${reason}); it can only be compared from a checkout that has its packages installed`,
  );
}

/** In a variant process: the built library of the `--before` revision, from {@link BEFORE_SRC_ENV}. */
export const loadBeforeLibrary: LoadLibrary = () => {
  const built = process.env[BEFORE_SRC_ENV];
  if (built === undefined || built === '')
    return Promise.reject(new Error(`${BEFORE_SRC_ENV} is not set: run the before-* variants with --before`));
  return importBuilt(built);
};

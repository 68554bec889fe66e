import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Environment variable that hands this checkout's built library (its `index.js`) to the variant processes. */
export const LIBRARY_ENV = 'BENCH_LIBRARY';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where builds go. Inside a `node_modules` folder for two reasons: tsx, which runs the variant
 * processes, leaves code there as it is (elsewhere it re-transforms even plain `.js`, naming every
 * closure as it is created, which users' processes never do), and the library's bare imports resolve
 * to this checkout's packages, as the current `src/` does.
 */
export const BUILDS_FOLDER = 'node_modules/.cache/express-cache-aside-bench';
/**
 * This run's builds: their own folder per checkout and per run, since checkouts may share one
 * `node_modules` (git worktrees with a symlink) and variant processes import a build for a whole run.
 */
const RUN_BUILDS = join(
  REPOSITORY,
  BUILDS_FOLDER,
  `${createHash('sha256').update(REPOSITORY).digest('hex').slice(0, 12)}-${process.pid}`,
);
let removesBuildsAtExit = false;
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc', { paths: [REPOSITORY] });

/**
 * Compiles `srcDir` with `tsc`, as `npm run build` compiles the package users install, into a folder
 * of its own named `name`, and returns the path of its `index.js`. A revision whose types no longer
 * check against this checkout's packages is still emitted: only code that cannot be emitted fails.
 */
export function buildLibrary(srcDir: string, name: string): string {
  const root = join(RUN_BUILDS, name);
  if (!removesBuildsAtExit) {
    removesBuildsAtExit = true;
    process.once('exit', () => rmSync(RUN_BUILDS, { recursive: true, force: true }));
  }
  const outDir = join(root, 'dist');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  const project = join(root, 'tsconfig.json');
  writeFileSync(
    project,
    JSON.stringify({
      extends: join(REPOSITORY, 'tsconfig.build.json'),
      compilerOptions: {
        rootDir: srcDir,
        outDir,
        declaration: false,
        noEmitOnError: false,
        // Stripped of the source-only condition: the build resolves packages as users' installs do.
        customConditions: [],
      },
      include: [srcDir],
      exclude: [join(srcDir, 'demo')],
    }),
  );
  const compiled = spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', timeout: 180_000 });
  const entry = join(outDir, 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`bench: tsc could not build ${srcDir}:\n${compiled.stdout}${compiled.stderr}`);
  }
  return entry;
}

/** Builds this checkout's `src/` (see {@link buildLibrary}). */
export function buildThisCheckout(): string {
  return buildLibrary(join(REPOSITORY, 'src'), 'current');
}

/** In a variant process: imports the built library at `entry`. */
export function importBuilt<T>(entry: string): Promise<T> {
  return import(pathToFileURL(entry).href) as Promise<T>;
}

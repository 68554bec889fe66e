// (e) and (f): what the tarball holds, read from its extracted `package/` directory.
// Usage: node check-tarball.mjs <extracted package dir> <e|f>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [root, check] = process.argv.slice(2);
const SOURCE_CONDITION = 'express-cache-aside:source';
const files = listFiles(root);
const problems = [];

if (check === 'e') {
  for (const required of [
    'LICENSE',
    'CHANGELOG.md',
    'README.md',
    'package.json',
    'dist/index.d.ts',
    'dist/testing/index.d.ts',
  ]) {
    if (!files.includes(required)) problems.push(`missing ${required}`);
  }
  if (!files.some((file) => file.startsWith('grafana/'))) problems.push('missing grafana/');
  if (!files.includes('grafana/dashboards/express-cache-aside.json')) problems.push('missing the dashboard');
  const license = files.includes('LICENSE') ? read('LICENSE') : '';
  if (
    !/^MIT License\b/.test(license) ||
    !license.includes('Copyright (c) 2026 express-cache-aside contributors')
  ) {
    problems.push('LICENSE is not the MIT licence of express-cache-aside contributors');
  }
  if (files.some((file) => file.startsWith('dist/demo/'))) problems.push('dist/demo/ is published');
  // The entry points exist, and TypeScript finds the declarations first. The repository's own
  // condition (tsc and mocha set it to import `./testing` from src/, which is not published) is left out.
  const manifest = JSON.parse(read('package.json'));
  const targets = [manifest.main, manifest.types];
  for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
    if (typeof entry === 'string') {
      targets.push(entry);
      continue;
    }
    const published = Object.entries(entry).filter(([condition]) => condition !== SOURCE_CONDITION);
    if (published[0]?.[0] !== 'types') problems.push(`exports["${subpath}"] does not list \`types\` first`);
    targets.push(...published.map(([, target]) => target));
  }
  if (manifest.exports?.['./testing'] === undefined) problems.push('no exports["./testing"]');
  for (const target of targets) {
    if (typeof target === 'string' && !inTarball('.', target)) problems.push(`missing entry point ${target}`);
  }
  // Every source map, and every file that names one, must point inside the tarball.
  const maps = files.filter((file) => file.endsWith('.map'));
  for (const map of maps) {
    const { file, sources = [], sourceRoot = '' } = JSON.parse(read(map));
    for (const target of [file, ...sources.map((source) => join(sourceRoot, source))]) {
      if (target !== undefined && !inTarball(dirname(map), target)) {
        problems.push(`${map} points at missing ${target}`);
      }
    }
  }
  for (const file of files.filter((name) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(name))) {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(read(file))?.[1];
    if (url !== undefined && !url.startsWith('data:') && !inTarball(dirname(file), url)) {
      problems.push(`${file} names missing map ${url}`);
    }
  }
  report(
    `${files.length} files, ${maps.length} source maps, entry points, LICENSE, CHANGELOG.md, README.md, dist/index.d.ts, dist/testing/, grafana/`,
  );
} else if (check === 'f') {
  // A published module may import Node, its dependencies and its peers, nothing else (no dev-only module).
  const manifest = JSON.parse(read('package.json'));
  const allowed = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules);
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  let imports = 0;
  for (const file of files.filter((name) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(name))) {
    for (const [, name] of read(file).matchAll(specifier)) {
      if (name.startsWith('.')) continue;
      imports += 1;
      const bare = name.startsWith('node:') ? name.slice(5) : name;
      const packageName = bare
        .split('/')
        .slice(0, bare.startsWith('@') ? 2 : 1)
        .join('/');
      if (!builtins.has(bare) && !builtins.has(packageName) && !allowed.has(packageName)) {
        problems.push(`${file} imports ${name}, which is neither a dependency nor a peer dependency`);
      }
    }
  }
  report(`${imports} bare imports in dist/, all Node built-ins, dependencies or peer dependencies`);
} else {
  console.error('usage: node check-tarball.mjs <package dir> <e|f>');
  process.exit(2);
}

function report(summary) {
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    process.exit(1);
  }
  console.log(summary);
}

function read(file) {
  return readFileSync(join(root, file), 'utf8');
}

function inTarball(fromDir, target) {
  const path = relative(root, resolve(root, fromDir, target));
  return !path.startsWith('..') && existsSync(join(root, path));
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(dir, join(entry.parentPath ?? entry.path, entry.name))
        .split(sep)
        .join('/'),
    )
    .sort();
}

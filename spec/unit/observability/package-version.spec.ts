import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { packageVersion } from '../../../src/observability/package-version.js';

describe('packageVersion (the version label of build_info)', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'package-version-'));
  });

  afterEach(() => rm(folder, { recursive: true, force: true }));

  async function manifest(content: string): Promise<URL> {
    const path = join(folder, 'package.json');
    await writeFile(path, content);
    return pathToFileURL(path);
  }

  it('reads the version of this package by default', async () => {
    const { version } = (await import('../../../package.json', { with: { type: 'json' } })).default;
    expect(packageVersion())
      .to.equal(version)
      .and.to.match(/^\d+\.\d+\.\d+/);
  });

  it('says unknown rather than failing when the manifest is missing, unreadable or has no version', async () => {
    expect(packageVersion(pathToFileURL(join(folder, 'absent.json')))).to.equal('unknown');
    expect(packageVersion(await manifest('{ not json'))).to.equal('unknown');
    expect(packageVersion(await manifest('{"name":"x"}'))).to.equal('unknown');
    expect(packageVersion(await manifest('null'))).to.equal('unknown');
    expect(packageVersion(await manifest('{"version":"1.2.3"}'))).to.equal('1.2.3');
  });
});

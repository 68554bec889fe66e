import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { useRedisServer } from '../../support/redis-server-fixture.js';

describe('a process that quits its Redis client without closing the cache', function () {
  this.timeout(60_000);
  const redis = useRedisServer();

  it('exits by itself: the cache’s invalidation subscriber does not keep it alive', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'spec/support/quit-without-close.ts'], {
      env: { ...process.env, REDIS_URL: redis.url, NODE_V8_COVERAGE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // The deadline only bounds a hang: a process held by an open socket never exits on its own.
    const exit = await new Promise<number | string>((resolve) => {
      const deadline = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 30 s');
      }, 30_000);
      child.once('exit', (code) => {
        clearTimeout(deadline);
        resolve(code ?? 'killed');
      });
    });
    expect(exit, output).to.equal(0);
    expect(output.trim()).to.equal('42');
  });
});

// redis-memory-server reads this at install time and at run time. It must never download or
// compile Redis: it uses the redis-server found on PATH (Debian package `redis-server`).
const { execFileSync } = require('node:child_process');

function findRedisServerOnPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const systemBinary = findRedisServerOnPath();

module.exports = {
  disablePostinstall: '1',
  ...(systemBinary ? { systemBinary } : {}),
};

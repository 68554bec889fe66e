import { execFileSync } from 'node:child_process';

/**
 * Runs `promtool` (it ships with the Debian package prometheus) and answers its output; throws
 * with promtool's own output when it exits non-zero, and a clear message when it is not on PATH.
 */
export function runPromtool(args: readonly string[], cwd?: string): string {
  try {
    return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const {
      code,
      stdout = '',
      stderr = '',
    } = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (code === 'ENOENT')
      throw new Error('promtool is not on PATH: it ships with the Debian package prometheus');
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

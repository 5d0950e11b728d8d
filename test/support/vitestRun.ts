/**
 * vitest run as a child process, for tests about what a whole run prints (the skip reporter, a
 * fresh clone's suite). Without the variables vitest sets for its own workers, which would make
 * the inner run think it is one of them, and without colours, so output compares as text.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface VitestRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines, trailing blank lines removed. */
  lines: string[];
}

export function runVitest(cwd: string, args: readonly string[]): VitestRun {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'FORCE_COLOR'),
  );
  const run = spawnSync(
    process.execPath,
    [path.join('node_modules', 'vitest', 'vitest.mjs'), 'run', ...args],
    {
      cwd,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...env, NO_COLOR: '1' },
    },
  );
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    lines: run.stdout.trimEnd().split('\n'),
  };
}

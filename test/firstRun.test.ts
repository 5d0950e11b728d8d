/**
 * The first five minutes, as a newcomer lives them: a fresh clone in a temporary directory,
 * the README's install-and-start commands, then the demo in a second "terminal". What is
 * cloned is the committed HEAD (in CI, exactly what is being tested).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir, waitUntil } from './support/relayHarness.js';
import { runVitest } from './support/vitestRun.js';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const isCheckout = spawnSync('git', ['rev-parse', '--verify', 'HEAD'], { cwd: repoRoot }).status === 0;
const cleanups: (() => void)[] = [];

afterAll(() => cleanups.forEach((cleanup) => cleanup()));

const notCheckout = isCheckout
  ? ''
  : ` (skipped: ${repoRoot} is not a git checkout, so there is nothing to clone)`;

let clonedAndInstalled: string | undefined;

/**
 * The committed HEAD cloned into a temporary directory with nothing beside it (no ../shared), and
 * `npm ci` run there; once for the tests below.
 */
function freshClone(): string {
  if (clonedAndInstalled !== undefined) return clonedAndInstalled;
  const home = tempDir('relay-dap-clone-');
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  const clone = path.join(home, 'relay-dap');
  const cloned = spawnSync('git', ['clone', '--quiet', repoRoot, clone], { encoding: 'utf8' });
  expect(cloned.status, cloned.stderr).toBe(0);

  const install = spawnSync('npm', ['ci'], { cwd: clone, encoding: 'utf8', timeout: 240_000 });
  expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
  // `npm ci` installs; it runs no build of ours (no `prepare`: npm warns about install
  // scripts, issue 12 item 10). `npm start` and `npm test` build what is missing.
  expect(install.stderr).not.toMatch(/relay-dap@[^ ]+ \((prepare|install|postinstall)/);
  clonedAndInstalled = clone;
  return clone;
}

describe.skipIf(!isCheckout)(`a fresh clone, the README commands, then the demo${notCheckout}`, () => {
  it('the README gives the two set-up commands this test runs', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('npm run demo');
  });

  it('npm ci, npm start, npm run demo: a whole session ending with exit code 130', async () => {
    const clone = freshClone();

    // `npm start` on a free port, so that a developer's own adapter on 4711 is not disturbed.
    const start = spawn('npm', ['start', '--', '--port', '0'], { cwd: clone, detached: true });
    cleanups.push(() => {
      try {
        process.kill(-start.pid!, 'SIGTERM');
      } catch {
        // Already stopped.
      }
    });
    let startOutput = '';
    start.stdout.on('data', (chunk: Buffer) => (startOutput += chunk.toString()));
    start.stderr.on('data', (chunk: Buffer) => (startOutput += chunk.toString()));
    await waitUntil(() => /ready on [\d.]+:\d+/.test(startOutput), 'npm start to be ready', 120_000);
    expect(startOutput).toMatch(/VS Code/);
    expect(startOutput).toMatch(/nvim-dap/);
    const port = /ready on [\d.]+:(\d+)/.exec(startOutput)![1]!;
    expect(fs.existsSync(path.join(clone, 'dist', 'relay-dap.cjs'))).toBe(true);

    const demo = spawnSync('npm', ['run', '--silent', 'demo', '--', '--port', port], {
      cwd: clone,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const transcript = demo.stdout;
    expect(demo.status, `${transcript}\n${demo.stderr}`).toBe(0);
    expect(transcript).not.toMatch(/using one of its own/);
    for (const moment of [
      /stopped \(entry\)/,
      /console: !uname -a/,
      /→ exit 0/,
      /stopped \(breakpoint\)/,
      /stopped \(exception\): Test failed with exit code 3/,
      /stopped \(restart\)/,
      /tests pass/,
      /exited with code 130, then terminated/,
    ]) {
      expect(transcript).toMatch(moment);
    }

    // Ctrl-C in the first terminal: the adapter ends its sessions and stops. (npm's own exit
    // status after a signal varies between npm versions, so the adapter's word is checked.)
    // `close`, not `exit`: npm may exit first; the adapter's last words come when every
    // process holding the pipes has ended.
    process.kill(-start.pid!, 'SIGTERM');
    await new Promise((resolve) => start.once('close', resolve));
    expect(startOutput).toMatch(/stopping: ending \d+ session/);
  }, 420_000);

  it('the DAP tests run there, validating against the schema derived from @vscode/debugprotocol; only the comparison with ../shared is skipped, and the run ends saying why', () => {
    const clone = freshClone();
    const officialSchema = path.resolve(clone, '..', 'shared', 'dap', 'debugAdapterProtocol.json');
    expect(fs.existsSync(officialSchema)).toBe(false);
    // As `npm test` does first (the tests spawn the built adapter).
    const build = spawnSync('npm', ['run', 'build'], { cwd: clone, encoding: 'utf8', timeout: 240_000 });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    const run = runVitest(clone, ['test/support/dapSchema.test.ts', 'test/dap/transcript.test.ts']);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/Test Files {2}2 passed \(2\)\n\s+Tests {2}\d+ passed \| 1 skipped \(\d+\)/);
    expect(run.lines.slice(-2)).toEqual([
      '1 skipped:',
      '  test/support/dapSchema.test.ts > the derived schema against the official JSON schema > ' +
        'same definitions, required properties and integer ranges ' +
        `(skipped: DAP schema ${officialSchema} is missing; it is kept outside the repository (see SOURCE.md beside it))`,
    ]);
  }, 420_000);
});

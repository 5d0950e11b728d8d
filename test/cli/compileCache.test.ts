/**
 * The launcher's compile cache (issue 12, item 9: start-up). Its speed is measured in
 * `npm run bench`; here, what a user on a shared machine relies on: the cache is private,
 * a directory someone else could write to is never used, and a damaged cache only costs a
 * recompile.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { relayDapBin, repoRoot, tempDir } from '../support/relayHarness.js';

const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const isRoot = process.getuid?.() === 0;
let home: string;

beforeEach(() => {
  home = tempDir('relay-dap-cache-');
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

function relayDap(cacheHome: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [relayDapBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, NODE_DISABLE_COMPILE_CACHE: '', ...env },
    timeout: 60_000,
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const cacheFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe('the compile cache', () => {
  it('is private (a 0700 directory, 0600 files), one file per subcommand, written once and then reused', () => {
    const dir = path.join(home, 'relay-dap');
    expect(relayDap(home, ['--version'])).toBe(`${version}\n`);
    expect(mode(dir)).toBe(0o700);
    const [first, ...others] = cacheFiles(dir);
    expect(others).toEqual([]);
    expect(first).toMatch(/-help\.v8cache$/);
    const written = fs.statSync(path.join(dir, first!));
    expect(written.mode & 0o777).toBe(0o600);

    expect(relayDap(home, ['--version'])).toBe(`${version}\n`);
    const reused = fs.statSync(path.join(dir, first!));
    expect([reused.ino, reused.mtimeMs]).toEqual([written.ino, written.mtimeMs]);

    relayDap(home, ['status', '--help']);
    expect(cacheFiles(dir)).toEqual([first, expect.stringMatching(/-status\.v8cache$/)]);
  });

  it('is never read from or written to a directory that another user can write to', () => {
    const open = path.join(home, 'open', 'relay-dap');
    fs.mkdirSync(open, { recursive: true });
    fs.chmodSync(open, 0o777);
    expect(relayDap(path.dirname(open), ['--version'])).toBe(`${version}\n`);
    expect(cacheFiles(open)).toEqual([]);
  });

  it.skipIf(!isRoot)('is never used from a directory owned by another user (needs root to chown)', () => {
    const theirs = path.join(home, 'theirs', 'relay-dap');
    fs.mkdirSync(theirs, { recursive: true, mode: 0o700 });
    fs.chownSync(theirs, 65534, 65534);
    expect(relayDap(path.dirname(theirs), ['--version'])).toBe(`${version}\n`);
    expect(cacheFiles(theirs)).toEqual([]);
  });

  it('a damaged cache file costs a recompile, never a wrong answer, and is replaced', () => {
    const dir = path.join(home, 'relay-dap');
    relayDap(home, ['--help']);
    const [file] = cacheFiles(dir);
    const damaged = Buffer.alloc(fs.statSync(path.join(dir, file!)).size, 0x5a);
    fs.writeFileSync(path.join(dir, file!), damaged);
    expect(relayDap(home, ['--help'])).toMatch(/^relay-dap \S+: debug jobs/);
    expect(fs.readFileSync(path.join(dir, file!)).equals(damaged)).toBe(false);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node’s own', () => {
    expect(relayDap(home, ['--version'], { NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(`${version}\n`);
    expect(fs.existsSync(path.join(home, 'relay-dap'))).toBe(false);
  });
});

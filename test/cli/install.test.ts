/**
 * Getting `relay-dap` on PATH (issue 12, item 10): a symlink to the built entry, `npm install
 * -g .` from a checkout, and `npm install -g` of the package as published (`npm pack`). Each
 * must leave a `relay-dap` that runs, without npm warning about install scripts, and the
 * package must hold the bundle and no source map.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayDapBin, repoRoot, tempDir } from '../support/relayHarness.js';

const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
let home: string;

beforeAll(() => {
  home = tempDir('relay-dap-install-');
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** `relay-dap ARGS` as a shell finds it: by name, on a PATH that starts with `bin`. */
function onPath(bin: string, args: readonly string[]) {
  return spawnSync('relay-dap', args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    timeout: 60_000,
  });
}

function npm(args: readonly string[]) {
  const result = spawnSync('npm', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    // Nothing from the user's own npm configuration (a global prefix, a registry).
    env: { ...process.env, npm_config_userconfig: path.join(home, 'npmrc') },
    timeout: 240_000,
  });
  expect(result.status, `npm ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

describe('relay-dap on PATH', () => {
  it('a symlink to the built entry runs it (the file is executable)', () => {
    const bin = path.join(home, 'symlinked');
    fs.mkdirSync(bin);
    fs.symlinkSync(relayDapBin, path.join(bin, 'relay-dap'));
    const result = onPath(bin, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${version}\n`);
    expect(result.status).toBe(0);
  });

  it('npm install -g . from a checkout: no install-script warning, and relay-dap runs', () => {
    const prefix = path.join(home, 'linked');
    const install = npm(['install', '--global', '--prefix', prefix, '.']);
    expect(install.stderr).not.toMatch(/install-scripts|prepare|postinstall/);
    const result = onPath(path.join(prefix, 'bin'), ['--version']);
    expect(result.stdout).toBe(`${version}\n`);
    expect(result.status).toBe(0);
  });

  it('npm install -g of the packed package: no warning, no dependency to fetch, only the bundle, and relay-dap runs', () => {
    const packed = path.join(home, 'packed');
    fs.mkdirSync(packed);
    // --ignore-scripts: `prepack` would rebuild the dist/ that other tests are running; the
    // build has already run (npm test runs it first).
    npm(['pack', '--ignore-scripts', '--pack-destination', packed]);
    const tarball = path.join(packed, `relay-dap-${version}.tgz`);
    const prefix = path.join(home, 'global');
    const install = npm(['install', '--global', '--prefix', prefix, '--offline', tarball]);
    expect(install.stderr).toBe('');
    expect(install.stdout).toMatch(/added 1 package/);

    const installed = path.join(prefix, 'lib', 'node_modules', 'relay-dap');
    const files = fs.readdirSync(installed, { recursive: true, encoding: 'utf8' });
    expect(files).not.toContain('node_modules');
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(fs.readdirSync(path.join(installed, 'dist')).sort()).toEqual([
      'THIRD-PARTY-NOTICES.txt',
      'adapter.cjs',
      'ajv.cjs',
      'channelReaper.js',
      'embeddedReaper.js',
      'job.cjs',
      'main.cjs',
      'relay-dap.cjs',
      'yaml.cjs',
    ]);
    for (const file of [
      'relay-dap.cjs',
      'main.cjs',
      'adapter.cjs',
      'job.cjs',
      'ajv.cjs',
      'yaml.cjs',
      'embeddedReaper.js',
      'channelReaper.js',
    ])
      expect(fs.readFileSync(path.join(installed, 'dist', file), 'utf8')).not.toMatch(/sourceMappingURL/);

    const result = onPath(path.join(prefix, 'bin'), ['--help']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^relay-dap \S+: debug jobs/);
    expect(result.status).toBe(0);
  });
});

/**
 * The VS Code extension as a user gets it: `npm run package` run in a copy of this checkout (so
 * that the build never rewrites the dist/ other tests are running), and the .vsix it writes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './relayHarness.js';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
/** Everything the build leaves out of the package, and what `npm run package` writes. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'coverage', 'test', 'bench', 'test-results']);

/** Builds the .vsix in `work`/checkout and returns its path. */
export function packageVsix(work: string): string {
  const checkout = path.join(work, 'checkout');
  fs.cpSync(repoRoot, checkout, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(path.relative(repoRoot, source).split(path.sep)[0]!),
  });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(checkout, 'node_modules'));
  const packaged = spawnSync('npm', ['run', 'package'], {
    cwd: checkout,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (packaged.status !== 0)
    throw new Error(`npm run package failed (${packaged.status}):\n${packaged.stdout}\n${packaged.stderr}`);
  return path.join(checkout, 'dist', `${manifest.name}-${manifest.version}.vsix`);
}

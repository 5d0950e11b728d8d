// The end of a vitest run as vitest.config.ts sets it up: one line per skipped test with its file,
// name and reason, and nothing when none was skipped. A real vitest process on fixture test files.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './relayHarness.js';
import { runVitest } from './vitestRun.js';

const fixtureConfig = path.join(repoRoot, 'test', 'fixtures', 'skip-reporter', 'vitest.config.ts');

describe('the skip reporter', () => {
  it('ends the run with each skipped test: file, name and reason', () => {
    const { status, lines } = runVitest(repoRoot, ['--config', fixtureConfig]);
    expect(status).toBe(0);
    expect(lines.slice(-4)).toEqual([
      '2 skipped, 1 todo:',
      '  test/fixtures/skip-reporter/skips.fixture.ts > a tool > is missing: needs frobnicate on PATH',
      '  test/fixtures/skip-reporter/skips.fixture.ts > a tool > is to be written: todo',
      '  test/fixtures/skip-reporter/skips.fixture.ts > a block whose title says why (skipped: not a git checkout) > inner',
    ]);
  });

  it('prints nothing after the summary when nothing was skipped', () => {
    const { status, lines } = runVitest(repoRoot, ['--config', fixtureConfig, 'none.fixture.ts']);
    expect(status).toBe(0);
    expect(lines.at(-1)).toMatch(/^\s*Duration\s/);
    expect(lines.join('\n')).not.toMatch(/skipped/);
  });

  it('does not list the tests a -t filter left out', () => {
    const { status, lines } = runVitest(repoRoot, ['--config', fixtureConfig, '-t', 'is here']);
    expect(status).toBe(0);
    expect(lines.join('\n')).toMatch(/Tests {2}1 passed \| 4 skipped/);
    expect(lines.at(-1)).toMatch(/^\s*Duration\s/);
  });
});

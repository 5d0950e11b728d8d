// hashFiles(): the planning, listing and hashing of src/workflow/hashFiles.ts, run against real
// files with real bash (the commands the relay would carry), and compared with a value computed
// the way GitHub documents it ("hashFiles: Returns a single hash for the set of files that
// matches the path pattern … calculates an individual SHA-256 hash for each matched file and then
// uses those hashes to calculate a final SHA-256 hash for the set of files"), with the files in
// the order the runner's globber walks them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  combineDigests,
  hashFilesCommand,
  hashFilesRequest,
  listFilesCommand,
  physicalDirectoryCommand,
  planHashFiles,
  selectFiles,
} from '../../src/workflow/hashFiles.js';
import { documentedHashFiles } from '../support/documentedHash.js';

let workspace: string;

beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hashfiles-'));
});
afterEach(() => fs.rmSync(workspace, { recursive: true, force: true }));

function bash(text: string): string {
  const run = spawnSync('bash', ['-c', text], { cwd: workspace, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

/** hashFiles(...args) through the commands the relay would run, with this side's matching between them. */
function hashFiles(...args: string[]): string {
  const physical = bash(physicalDirectoryCommand(workspace)).split('\0')[0]!;
  const plan = planHashFiles(hashFilesRequest(args), physical);
  const files = selectFiles(plan, bash(listFilesCommand(plan)));
  return files.length === 0 ? '' : combineDigests(bash(hashFilesCommand(files)));
}

function selected(...args: string[]): string[] {
  const physical = fs.realpathSync(workspace);
  const plan = planHashFiles(hashFilesRequest(args), physical);
  return selectFiles(plan, bash(listFilesCommand(plan))).map((file) => path.relative(physical, file));
}

function write(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), content);
  }
}

describe('hashFiles', () => {
  beforeEach(() =>
    write({
      'Cargo.lock': '# rust lock\n',
      'crates/cli/Cargo.lock': '# a nested lock\n',
      'web/package-lock.json': '{"lockfileVersion": 3}\n',
      'web/node_modules/left-pad/package-lock.json': '{"vendored": true}\n',
      'docs/package-lock.json': '{"lockfileVersion": 2}\n',
      'requirements.txt': 'httpx==0.27\n',
      'requirements-dev.txt': 'pytest==8\n',
      'tools/requirements-lint.txt': 'ruff==0.5\n',
      'tools/requirements.in': 'ruff\n',
      '.github/requirements-ci.txt': 'nox\n',
    }),
  );

  it('one pattern over a tree: every match, in the order the runner walks the tree', () => {
    expect(selected('**/requirements*.txt')).toEqual([
      '.github/requirements-ci.txt',
      'requirements-dev.txt',
      'requirements.txt',
      'tools/requirements-lint.txt',
    ]);
    expect(hashFiles('**/requirements*.txt')).toBe(
      documentedHashFiles(workspace, [
        '.github/requirements-ci.txt',
        'requirements-dev.txt',
        'requirements.txt',
        'tools/requirements-lint.txt',
      ]),
    );
  });

  it('several patterns and an exclusion: Cargo.lock, package-lock.json in subfolders, not under node_modules', () => {
    const args = ['**/Cargo.lock', '**/package-lock.json', '!**/node_modules/**'];
    const files = ['Cargo.lock', 'crates/cli/Cargo.lock', 'docs/package-lock.json', 'web/package-lock.json'];
    expect(selected(...args)).toEqual(files);
    expect(hashFiles(...args)).toBe(documentedHashFiles(workspace, files));
  });

  it('a directory named alone hashes every file below it; a later pattern adds back what a ! removed', () => {
    expect(selected('tools')).toEqual(['tools/requirements-lint.txt', 'tools/requirements.in']);
    expect(selected('tools', '!tools/*.in')).toEqual(['tools/requirements-lint.txt']);
    expect(selected('tools', '!tools/*', 'tools/*.in')).toEqual(['tools/requirements.in']);
  });

  it('search roots come in pattern order, each walked on its own (not one sorted list)', () => {
    expect(selected('web/package-lock.json', 'docs/package-lock.json')).toEqual([
      'web/package-lock.json',
      'docs/package-lock.json',
    ]);
    expect(hashFiles('web/package-lock.json', 'docs/package-lock.json')).toBe(
      documentedHashFiles(workspace, ['web/package-lock.json', 'docs/package-lock.json']),
    );
  });

  it('depth first by name: a/b comes before a-c (a plain sort of paths would put a-c first)', () => {
    write({ 'a/b.txt': '1', 'a-c.txt': '2' });
    expect(selected('**/*.txt').filter((file) => file.startsWith('a'))).toEqual(['a/b.txt', 'a-c.txt']);
  });

  it('no file matched: the empty string; a ./ pattern is the same as a relative one', () => {
    expect(hashFiles('**/go.sum')).toBe('');
    expect(hashFiles('./Cargo.lock')).toBe(hashFiles('Cargo.lock'));
    expect(hashFiles('Cargo.lock')).toBe(documentedHashFiles(workspace, ['Cargo.lock']));
  });

  it('a file outside the workspace is not hashed, as the runner ignores it; a pattern above it reaches into it', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'hashfiles-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'Cargo.lock'), 'elsewhere\n');
      expect(hashFiles(`${outside}/Cargo.lock`)).toBe('');
      // `<parent>/*` names the workspace folder itself, and so every file below it.
      expect(hashFiles(`${path.dirname(workspace)}/${path.basename(workspace)}/*`)).toBe(hashFiles('**'));
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('the far side lists only the candidates of a pattern ending in a name, a directory of that name included', () => {
    write({ 'odd/Cargo.lock/inner.txt': 'a directory named like the lock\n' });
    const plan = planHashFiles(hashFilesRequest(['**/Cargo.lock']), fs.realpathSync(workspace));
    const listed = bash(listFilesCommand(plan))
      .split('\0')
      .filter((file) => file !== '')
      .map((file) => path.relative(fs.realpathSync(workspace), file))
      .sort();
    expect(listed).toEqual(['Cargo.lock', 'crates/cli/Cargo.lock', 'odd/Cargo.lock/inner.txt']);
    // As the runner: the implicit `**/Cargo.lock/**` selects the file inside that directory too.
    expect(hashFiles('**/Cargo.lock')).toBe(
      documentedHashFiles(workspace, ['Cargo.lock', 'crates/cli/Cargo.lock', 'odd/Cargo.lock/inner.txt']),
    );
  });

  it('follows a link to a directory only with --follow-symbolic-links, as the runner does', () => {
    write({ 'real/r.lock': 'r\n' });
    fs.symlinkSync('real', path.join(workspace, 'linked'));
    expect(selected('**/r.lock')).toEqual(['real/r.lock']);
    expect(selected('--follow-symbolic-links', '**/r.lock')).toEqual(['linked/r.lock', 'real/r.lock']);
    expect(hashFiles('--follow-symbolic-links', 'linked')).toBe(
      documentedHashFiles(workspace, ['real/r.lock']),
    );
    expect(hashFiles('linked')).toBe('');
  });

  it("refuses '..' and an unknown option, as the runner does", () => {
    expect(() => hashFilesRequest(['--follow', 'x'])).toThrow(
      "hashFiles(): invalid glob option --follow; the only option is '--follow-symbolic-links'",
    );
    expect(() => planHashFiles(hashFilesRequest(['../x']), workspace)).toThrow(
      "hashFiles(): invalid pattern '../x': relative pathing '.' and '..' is not allowed (as on GitHub)",
    );
  });
});

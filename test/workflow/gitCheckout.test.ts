import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitCheckout, parseRemoteUrl, readGitCheckout } from '../../src/workflow/gitCheckout.js';
import { git } from '../support/git.js';

const octoOrigin = {
  url: 'https://github.com/octo-org/octo-repo.git',
  host: 'github.com',
  owner: 'octo-org',
  name: 'octo-repo',
};

/** What readGitCheckout finds with a branch checked out; a bare clone has no work tree, so no root. */
function onBranch(
  root: string | undefined,
  sha: string | undefined,
  ref: string,
  origin: GitCheckout['origin'],
): GitCheckout {
  return { root, bare: root === undefined, sha, ref, detached: false, origin };
}

let temp: string;
/** A checkout on `main` with one commit, a workflow file and an https origin. */
let repo: string;
let workflow: string;
let firstSha: string;

beforeAll(() => {
  temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gitCheckout-')));
  repo = path.join(temp, 'repo');
  fs.mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true });
  workflow = path.join(repo, '.github', 'workflows', 'ci.yml');
  fs.writeFileSync(workflow, 'on: push\njobs: {}\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  git(repo, 'remote', 'add', 'origin', octoOrigin.url);
  firstSha = git(repo, 'rev-parse', 'HEAD');
});

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

describe('readGitCheckout', () => {
  it('reads sha, branch ref and origin of a checkout on a branch, from the workflow file', async () => {
    expect(await readGitCheckout(workflow)).toEqual(onBranch(repo, firstSha, 'refs/heads/main', octoOrigin));
    expect(firstSha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('answers for the workflow file checkout even when GIT_DIR names another repository', async () => {
    const other = path.join(temp, 'other');
    fs.mkdirSync(other);
    git(other, 'init', '-q', '-b', 'elsewhere');
    const saved = { GIT_DIR: process.env.GIT_DIR, GIT_WORK_TREE: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = path.join(other, '.git');
    process.env.GIT_WORK_TREE = other;
    try {
      const checkout = await readGitCheckout(workflow);
      expect(checkout?.root).toBe(repo);
      expect(checkout?.ref).toBe('refs/heads/main');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('is undefined for a directory that is not in a git checkout', async () => {
    const plain = path.join(temp, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'ci.yml'), 'on: push\n');
    expect(await readGitCheckout(path.join(plain, 'ci.yml'))).toBeUndefined();
  });

  it('has no sha and no origin in a repository without commits, and keeps the unborn branch', async () => {
    const fresh = path.join(temp, 'fresh');
    fs.mkdirSync(fresh);
    git(fresh, 'init', '-q', '-b', 'trunk');
    expect(await readGitCheckout(fresh)).toEqual(onBranch(fresh, undefined, 'refs/heads/trunk', undefined));
  });

  describe('detached HEAD, as act chooses (tag first, then a local branch, else none)', () => {
    let detached: string;
    let secondSha: string;
    beforeAll(() => {
      detached = path.join(temp, 'detached');
      git(temp, 'clone', '-q', repo, detached);
      git(detached, 'tag', '-a', 'v1.2.0', '-m', 'release');
      fs.writeFileSync(path.join(detached, 'two'), '2\n');
      git(detached, 'add', 'two');
      git(detached, 'commit', '-q', '-m', 'second');
      secondSha = git(detached, 'rev-parse', 'HEAD');
      git(detached, 'tag', 'light');
    });

    it('names an annotated tag at HEAD', async () => {
      git(detached, 'checkout', '-q', '--detach', 'v1.2.0');
      const checkout = await readGitCheckout(detached);
      expect(checkout?.detached).toBe(true);
      expect(checkout?.sha).toBe(firstSha);
      expect(checkout?.ref).toBe('refs/tags/v1.2.0');
    });

    it('prefers a tag to a branch at the same commit', async () => {
      git(detached, 'checkout', '-q', '--detach', 'main');
      const checkout = await readGitCheckout(detached);
      expect(checkout?.sha).toBe(secondSha);
      expect(checkout?.ref).toBe('refs/tags/light');
    });

    it('names a local branch when no tag is there, and nothing on a commit no ref names', async () => {
      git(detached, 'tag', '-d', 'light');
      git(detached, 'checkout', '-q', '--detach', 'main');
      expect((await readGitCheckout(detached))?.ref).toBe('refs/heads/main');
      fs.writeFileSync(path.join(detached, 'three'), '3\n');
      git(detached, 'add', 'three');
      git(detached, 'commit', '-q', '-m', 'third, detached');
      const checkout = await readGitCheckout(detached);
      expect(checkout?.detached).toBe(true);
      expect(checkout?.sha).toBe(git(detached, 'rev-parse', 'HEAD'));
      expect(checkout?.ref).toBeUndefined();
      // The clone's origin is a local path: owner and name from its last two segments, no host.
      expect(checkout?.origin).toEqual({
        url: repo,
        host: undefined,
        owner: path.basename(temp),
        name: 'repo',
      });
    });
  });

  it('reads a worktree (a .git file) with its own branch and the shared origin', async () => {
    const tree = path.join(temp, 'feature-tree');
    git(repo, 'worktree', 'add', '-q', '-b', 'feature/x', tree);
    expect(fs.statSync(path.join(tree, '.git')).isFile()).toBe(true);
    expect(await readGitCheckout(path.join(tree, '.github', 'workflows', 'ci.yml'))).toEqual(
      onBranch(tree, firstSha, 'refs/heads/feature/x', octoOrigin),
    );
  });

  it('reads a bare clone: no work tree, HEAD branch and commit', async () => {
    const bare = path.join(temp, 'bare.git');
    git(temp, 'clone', '-q', '--bare', repo, bare);
    git(bare, 'remote', 'set-url', 'origin', 'git@ghe.example.com:team/tool.git');
    expect(await readGitCheckout(bare)).toEqual(
      onBranch(undefined, firstSha, 'refs/heads/main', {
        url: 'git@ghe.example.com:team/tool.git',
        host: 'ghe.example.com',
        owner: 'team',
        name: 'tool',
      }),
    );
  });
});

describe('parseRemoteUrl', () => {
  // Each remote, spelled in the ways git accepts: [host, owner, name] and its URLs.
  const spellings: Array<[[string, string, string], string[]]> = [
    [
      ['github.com', 'octo', 'repo'],
      [
        'https://github.com/octo/repo.git',
        'https://github.com/octo/repo',
        'https://github.com/octo/repo/',
        'http://GitHub.com/octo/repo.git',
        'git@github.com:octo/repo.git',
        'git@github.com:octo/repo',
        'github.com:octo/repo.git',
        'ssh://git@github.com/octo/repo.git',
        'ssh://git@github.com:22/octo/repo',
      ],
    ],
    [['github.com', 'octo', 'my.repo'], ['git://github.com/octo/my.repo.git']],
    [
      ['ghe.corp.example', 'platform', 'api'],
      ['https://ghe.corp.example/platform/api.git', 'ssh://git@ghe.corp.example:2222/platform/api.git'],
    ],
  ];
  it.each(spellings.flatMap(([remote, urls]) => urls.map((url) => [url, ...remote])))(
    '%s → %s %s/%s',
    (url, host, owner, name) => {
      expect(parseRemoteUrl(url)).toEqual({ url, host, owner, name });
    },
  );

  it('drops a user name and password from the URL it keeps', () => {
    expect(parseRemoteUrl('https://x-access-token:ghp_secret@github.com/octo/repo.git')).toEqual({
      url: 'https://github.com/octo/repo.git',
      host: 'github.com',
      owner: 'octo',
      name: 'repo',
    });
  });

  it('is undefined for a URL without owner and repository', () => {
    expect(parseRemoteUrl('https://github.com/repo.git')).toBeUndefined();
    expect(parseRemoteUrl('git@github.com:repo.git')).toBeUndefined();
    expect(parseRemoteUrl('repo')).toBeUndefined();
  });
});

/**
 * What the git checkout holding a workflow file says about the run GitHub would make of it: the
 * commit (`github.sha`), the branch or tag (`github.ref`), and the `origin` remote's
 * `owner/repo` (`github.repository`). Read on the editor's side, where the workflow file is.
 *
 * Read with the `git` binary rather than the files under `.git`: a checkout can be a worktree (a
 * `.git` file naming a directory whose `commondir` holds the refs), a bare clone, refs may be
 * packed, a remote URL may be rewritten by `url.<base>.insteadOf`, and reftable repositories
 * have no ref files at all; git itself answers all of these the way the user's own `git` does.
 * Only plumbing that reads is run (rev-parse, symbolic-ref, for-each-ref, remote get-url: no
 * hooks, no fsmonitor, no network), as an argv array without a shell, with optional locks off.
 * No git, or a directory git refuses (not a checkout, owned by another user): `undefined`.
 *
 * Detached HEAD follows act (pkg/common/git/git.go, FindGitRef): a tag pointing at HEAD, else a
 * local branch pointing at it; act prefers the tag. Unlike act (go-git compares the tag
 * object's own hash), an annotated tag counts as pointing at the commit it tags, as it does for
 * GitHub. No ref at all: `ref` is undefined and the caller falls back as act does.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface GitRemote {
  /** The remote's URL without a password, nor an http(s) user name (often a token). */
  url: string;
  /** github.com, or a GitHub Enterprise Server host; undefined for a local path. */
  host: string | undefined;
  owner: string;
  name: string;
}

export interface GitCheckout {
  /** The work tree's top directory; undefined for a bare clone. */
  root: string | undefined;
  bare: boolean;
  /** HEAD's commit; undefined when the branch has no commit yet. */
  sha: string | undefined;
  /** refs/heads/NAME or refs/tags/NAME; undefined when detached on a commit no ref names. */
  ref: string | undefined;
  detached: boolean;
  /** The `origin` remote, when there is one and its URL ends in OWNER/REPO. */
  origin: GitRemote | undefined;
}

/**
 * This process's environment without GIT_* variables: an editor started from a git hook or a
 * `git rebase --exec` inherits GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE, which would make git
 * answer for that repository instead of the one holding the workflow file.
 */
function gitFreeEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
}

/** Output of one git command, or undefined when it failed (exit status, no git binary). */
function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'core.fsmonitor=false', ...args],
      {
        cwd,
        env: { ...gitFreeEnvironment(), GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        timeout: 30_000,
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout) => resolve(error ? undefined : stdout.trimEnd()),
    );
  });
}

/** The checkout holding `file` (a workflow file, or a directory in the checkout). */
export async function readGitCheckout(file: string): Promise<GitCheckout | undefined> {
  let dir = path.resolve(file);
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch {
    dir = path.dirname(dir);
  }
  const bareAnswer = await git(dir, ['rev-parse', '--is-bare-repository']);
  if (bareAnswer === undefined) return undefined;
  const bare = bareAnswer === 'true';
  const [root, sha, symbolic, originUrl] = await Promise.all([
    bare ? Promise.resolve(undefined) : git(dir, ['rev-parse', '--show-toplevel']),
    git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']),
    git(dir, ['symbolic-ref', '--quiet', 'HEAD']),
    git(dir, ['remote', 'get-url', 'origin']),
  ]);
  const detached = symbolic === undefined;
  let ref = symbolic;
  if (detached && sha !== undefined) ref = await refAtCommit(dir, sha);
  return {
    root: root === undefined || root === '' ? undefined : root,
    bare,
    sha: sha === '' ? undefined : sha,
    ref,
    detached,
    origin: originUrl === undefined ? undefined : parseRemoteUrl(originUrl),
  };
}

/** act's choice for a detached HEAD: a tag at the commit, else a local branch at it. */
async function refAtCommit(dir: string, sha: string): Promise<string | undefined> {
  const listed = await git(dir, [
    'for-each-ref',
    `--points-at=${sha}`,
    '--format=%(refname)',
    'refs/tags/',
    'refs/heads/',
  ]);
  const refs = (listed ?? '').split('\n').filter((line) => line !== '');
  return refs.find((name) => name.startsWith('refs/tags/')) ?? refs[0];
}

/**
 * OWNER/REPO of a remote URL: `https://host/owner/repo(.git)`, `git@host:owner/repo(.git)`,
 * `ssh://git@host[:port]/owner/repo(.git)`, `git://…`. A URL with fewer than two path
 * segments (a local path to a bare repository may still have two: then its host is undefined).
 */
export function parseRemoteUrl(url: string): GitRemote | undefined {
  let host: string | undefined;
  let pathPart: string;
  let shown = url;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(url);
  const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.*)$/.exec(url);
  if (scheme) {
    const authority = scheme[2] ?? '';
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    host = hostPort.replace(/:\d*$/, '').toLowerCase() || undefined;
    pathPart = scheme[3] ?? '';
    // A token is often the user name of an https URL; ssh's `git@` is no secret, a password is.
    const userInfo = authority.includes('@') ? authority.slice(0, authority.lastIndexOf('@')) : undefined;
    if (userInfo !== undefined && (/^https?$/i.test(scheme[1] ?? '') || userInfo.includes(':'))) {
      shown = `${scheme[1]}://${hostPort}${pathPart}`;
    }
  } else if (scp && !url.startsWith('/') && !/^[a-z]:[\\/]/i.test(url)) {
    host = (scp[1] ?? '').toLowerCase();
    pathPart = scp[2] ?? '';
  } else {
    pathPart = url;
  }
  const segments = pathPart.split('/').filter((segment) => segment !== '');
  const owner = segments[segments.length - 2];
  const last = segments[segments.length - 1];
  if (owner === undefined || last === undefined) return undefined;
  const name = last.replace(/\.git$/, '');
  if (name === '') return undefined;
  return { url: shown, host, owner, name };
}

// The `github` and `runner` contexts and GitHub's default environment variables, end to end
// through the adapter (a real process over stdio) and its embedded relay (real bash): a real git
// checkout in a temporary directory (a branch, a tag, an `origin` remote) holds the workflow, and
// each step prints what it sees. Expected values cite GitHub's "Variables reference" (default
// environment variables) and "Contexts reference" (github, runner); where GitHub has no value for
// a local run, act's (nektos/act) is expected, as src/workflow/githubContext.ts says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  errorId,
  launchAndConfigure,
  outputByCategory,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { ERR } from '../support/errorIds.js';
import { git } from '../support/git.js';
import {
  consoleLines,
  continueJob,
  finish,
  lineOf,
  runToEnd,
  stoppedAt,
  workflowFixture,
} from '../support/jobSession.js';

const ctx = useAdapterContext();

/**
 * A checkout of acme/widgets in the test's workdir with `fixture` as .github/workflows/NAME,
 * committed on branch `main`; returns the workflow's path and HEAD.
 */
function checkout(fixture: string): { program: string; sha: string; root: string } {
  const root = fs.realpathSync(ctx.workdir);
  git(root, 'init', '-q', '-b', 'main');
  const program = path.join(root, '.github', 'workflows', fixture);
  fs.mkdirSync(path.dirname(program), { recursive: true });
  fs.copyFileSync(workflowFixture(fixture), program);
  git(root, 'add', '.');
  git(root, 'commit', '-q', '-m', 'release');
  git(root, 'remote', 'add', 'origin', 'https://github.com/acme/widgets.git');
  return { program, sha: git(root, 'rev-parse', 'HEAD'), root };
}

/** RUNNER_ARCH of this machine, as GitHub names it (the embedded relay runs here). */
const ARCH = ({ x64: 'X64', arm64: 'ARM64', ia32: 'X86', arm: 'ARM' } as Record<string, string>)[os.arch()];

describe('github and runner contexts, default variables', () => {
  it('release.yml on a tag: each default variable and each github.*/runner.* field a step prints', async () => {
    const { program, sha, root } = checkout('release.yml');
    git(root, 'tag', '-a', 'v1.4.2', '-m', 'v1.4.2');
    // A detached checkout of the tag, as actions/checkout leaves a tag push: act takes the tag.
    git(root, 'checkout', '-q', '--detach', 'v1.4.2');
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    await launchAndConfigure(client, { program, cwd: root, stopOnEntry: false });
    await runToEnd(client, 0);
    const lines = outputByCategory(client).stdout!.split('\n');
    expect(lines).toEqual([
      // GITHUB_SHA: "The commit SHA that triggered the workflow" — HEAD of the checkout.
      `GITHUB_SHA=${sha}`,
      // GITHUB_REF: "The fully-formed ref of the branch or tag" — the tag at HEAD.
      'GITHUB_REF=refs/tags/v1.4.2',
      // GITHUB_REF_NAME: "The short ref name … e.g. v1.4.2"; GITHUB_REF_TYPE: "branch or tag".
      'GITHUB_REF_NAME=v1.4.2',
      'GITHUB_REF_TYPE=tag',
      // GITHUB_REPOSITORY: "The owner and repository name" — from the origin remote.
      'GITHUB_REPOSITORY=acme/widgets',
      'GITHUB_REPOSITORY_OWNER=acme',
      // GITHUB_WORKSPACE: "The default working directory on the runner for steps".
      `GITHUB_WORKSPACE=${root}`,
      // GITHUB_EVENT_NAME: "The name of the event that triggered the workflow" — default push.
      'GITHUB_EVENT_NAME=push',
      // GITHUB_WORKFLOW: "The name of the workflow"; GITHUB_JOB: "The job_id of the current job".
      'GITHUB_WORKFLOW=Release',
      'GITHUB_JOB=publish',
      // GITHUB_ACTION: "__run" for a step without an id running a script.
      'GITHUB_ACTION=__run',
      // GITHUB_ACTIONS: "Always set to true"; GITHUB_SERVER_URL: "https://github.com".
      'GITHUB_ACTIONS=true',
      'GITHUB_SERVER_URL=https://github.com',
      // CI: "Always set to true" — but a workflow's env may set it ("you can overwrite CI").
      'CI=from-the-workflow',
      // RUNNER_OS: "Linux, Windows, or macOS": the steps run in bash on Linux.
      'RUNNER_OS=Linux',
      `pwd=${root}`,
      // RUNNER_ARCH: "X86, X64, ARM, or ARM64" — asked of the far side (uname -m).
      `RUNNER_ARCH=${ARCH}`,
      // RUNNER_TEMP: "The path to a temporary directory", the job folder, which holds the payload.
      'RUNNER_TEMP holds GITHUB_EVENT_PATH',
      // GITHUB_EVENT_PATH: "The path to the file on the runner that contains the full event
      // webhook payload" — the same as github.event: none given, so act's, an empty payload
      // with repository.default_branch filled in ("master" unless given, as act does).
      '{"repository":{"default_branch":"master"}}',
      // The id of the step is its GITHUB_ACTION; the job env saw github.* when evaluated.
      'version=1.4.2',
      'action=version',
      'image=ghcr.io/acme/widgets:v1.4.2',
      `sha=${sha} same=true`,
      'ref_name=v1.4.2 event=push action=__run_2',
      'repository=acme/widgets owner=acme',
      `workspace=${root}`,
      // runner.name: relay-dap; runner.debug: "set only if debug logging is enabled".
      `runner=Linux relay-dap ${ARCH} debug=`,
      'runner.temp is RUNNER_TEMP',
      'runner.tool_cache is RUNNER_TOOL_CACHE',
      '',
    ]);
    await finish(ctx, adapter);
  });

  it('pull-request.yml with an eventPath payload: github.event.*, base_ref/head_ref and refs/pull/N/merge', async () => {
    const { program, root } = checkout('pull-request.yml');
    git(root, 'checkout', '-q', '-b', 'feature/login');
    const eventPath = path.join(root, 'pr-event.json');
    fs.writeFileSync(
      eventPath,
      JSON.stringify({
        action: 'opened',
        number: 7,
        pull_request: {
          number: 7,
          title: 'Add login',
          base: { ref: 'main' },
          head: { ref: 'feature/login' },
        },
      }),
    );
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    await launchAndConfigure(client, {
      program,
      cwd: root,
      stopOnEntry: false,
      event: 'pull_request',
      eventPath,
    });
    await runToEnd(client, 0);
    expect(outputByCategory(client).stdout).toBe(
      // github.event: "The full event webhook payload" (the eventPath file).
      'number=7\n' +
        // github.base_ref / head_ref: "only available when the event … is pull_request".
        'base_ref=main head_ref=feature/login\n' +
        'GITHUB_BASE_REF=main GITHUB_HEAD_REF=feature/login\n' +
        // GITHUB_REF for a pull request: "refs/pull/<pr_number>/merge".
        'GITHUB_REF=refs/pull/7/merge GITHUB_EVENT_NAME=pull_request\n' +
        'title=Add login\n' +
        // The payload is written where the steps run, as given.
        '1\n',
    );
    await finish(ctx, adapter);
  });

  it('a console !CMD sees the same default variables as the steps, before the first step', async () => {
    const { program, sha, root } = checkout('release.yml');
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    await launchAndConfigure(client, { program, cwd: root, github: { actor: 'octocat' } });
    await stoppedAt(client, 'entry');
    const shell = await client.request('evaluate', {
      expression: '!set -u; echo "$GITHUB_SHA $GITHUB_REF_NAME $GITHUB_ACTIONS $RUNNER_OS $GITHUB_ACTOR $CI"',
      context: 'repl',
    });
    expect(shell.body.result).toBe('exit 0');
    // On branch main (no tag): GITHUB_REF_NAME "main"; the `github` launch argument sets actor.
    expect(outputByCategory(client).stdout).toBe(`${sha} main true Linux octocat from-the-workflow\n`);
    await continueJob(client);
    await runToEnd(client, 0);
    await finish(ctx, adapter);
  });

  it('a job-level if: reading github is decided from the checkout and the launch arguments: runs upstream, skipped in a fork', async () => {
    const { program, sha, root } = checkout('guarded-deploy.yml');
    const upstream = ctx.spawnStdio();
    await launchAndConfigure(upstream.client, { program, cwd: root, stopOnEntry: false });
    await runToEnd(upstream.client, 0);
    expect(outputByCategory(upstream.client).stdout).toBe(`deploying ${sha} from acme/widgets\n`);
    await finish(ctx, upstream);
    // The same job with `github.repository` of a fork (a launch override): GitHub skips it.
    const fork = ctx.spawnStdio();
    await launchAndConfigure(fork.client, {
      program,
      cwd: root,
      stopOnEntry: false,
      github: { repository: 'someone/widgets' },
    });
    await runToEnd(fork.client, 0);
    expect(outputByCategory(fork.client).stdout).toBeUndefined();
    expect(consoleLines(fork.client)).toContain(
      `relay-dap: This job was skipped: its if: ${fs.readFileSync(program, 'utf8').match(/if: (.*)/)![1]} (line ${lineOf(program, 'if: github')}) is false, so no step runs`,
    );
    await finish(ctx, fork);
  });

  it.each([
    [{ event: 42 }, '`event` must be string, not 42'],
    [{ event: 'Push Now' }, '`event` must match pattern "^[a-z_]+$", not "Push Now"'],
    [{ github: 'sha' }, '`github` must be object, not "sha"'],
    [{ eventPath: '' }, '`eventPath` must NOT have fewer than 1 characters, not ""'],
  ])('launch argument %j is refused naming the attribute and the value', async (extra, message) => {
    const { program, root } = checkout('pull-request.yml');
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    const { launch } = await launchAndConfigure(
      client,
      { program, cwd: root, ...extra },
      {},
      { allowLaunchFailure: true },
    );
    expect(launch.success).toBe(false);
    expect(errorId(launch)).toBe(ERR.InvalidArguments);
    expect(launch.message).toContain(message);
    await finish(ctx, adapter);
  });

  it('an eventPath that is not a JSON object is refused at launch, naming the file', async () => {
    const { program, root } = checkout('pull-request.yml');
    const eventPath = path.join(root, 'event.json');
    fs.writeFileSync(eventPath, '[1, 2]');
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    const { launch } = await launchAndConfigure(
      client,
      { program, cwd: root, event: 'pull_request', eventPath },
      {},
      { allowLaunchFailure: true },
    );
    expect(launch.success).toBe(false);
    expect(errorId(launch)).toBe(ERR.InvalidJob);
    expect(launch.message).toContain(`the event payload (eventPath) ${eventPath} is not a JSON object`);
    await finish(ctx, adapter);
  });
});

/**
 * Each expected value names where it is documented:
 *   [vars]  GitHub docs, "Variables reference" › "Default environment variables"
 *   [ctx]   GitHub docs, "Contexts reference" › "github context" / "runner context"
 *   [act]   nektos/act, pkg/runner/run_context.go getGithubContext, pkg/model/github_context.go
 */
import { describe, expect, it } from 'vitest';
import type { GitCheckout } from '../../src/workflow/gitCheckout.js';
import type { GithubContextInput } from '../../src/workflow/githubContext.js';
import { buildJobContexts, stepActionNames, withAction } from '../../src/workflow/githubContext.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

const checkout: GitCheckout = {
  root: '/home/dev/octo-repo',
  bare: false,
  sha: SHA,
  ref: 'refs/heads/feature/login',
  detached: false,
  origin: {
    url: 'git@github.com:octo-org/octo-repo.git',
    host: 'github.com',
    owner: 'octo-org',
    name: 'octo-repo',
  },
};

function input(extra: Partial<GithubContextInput> = {}): GithubContextInput {
  return {
    git: checkout,
    job: 'test',
    workflow: 'CI',
    workflowPath: '.github/workflows/ci.yml',
    workspace: '/work/octo-repo',
    eventPath: '/tmp/relay-dap-job.x/event.json',
    runner: { arch: 'X64', temp: '/tmp/relay-dap-job.x/temp', toolCache: '/opt/hostedtoolcache' },
    ...extra,
  };
}

describe('buildJobContexts: a push to a branch', () => {
  const { github, runner, env } = buildJobContexts(input({ token: 'ghs_token' }));

  it('sets every default variable as documented', () => {
    expect(env).toEqual({
      CI: 'true', // [vars] "Always set to true."
      GITHUB_ACTION: '', // [vars] per step: see stepActionNames / withAction
      GITHUB_ACTIONS: 'true', // [vars] "Always set to true when GitHub Actions is running the workflow."
      GITHUB_ACTOR: 'nektos/act', // [vars] who triggered the run; [act] default actor
      GITHUB_API_URL: 'https://api.github.com', // [vars] "Returns the API URL."
      GITHUB_BASE_REF: '', // [vars] "only set when the event … is either pull_request or pull_request_target"
      GITHUB_EVENT_NAME: 'push', // [vars] "The name of the event that triggered the workflow."
      GITHUB_EVENT_PATH: '/tmp/relay-dap-job.x/event.json', // [vars] "The path to the file on the runner that contains the full event webhook payload."
      GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql', // [vars] "Returns the GraphQL API URL."
      GITHUB_HEAD_REF: '', // [vars] as GITHUB_BASE_REF
      GITHUB_JOB: 'test', // [vars] "The job_id of the current job."
      GITHUB_REF: 'refs/heads/feature/login', // [vars] "for workflows triggered by push, this is the branch or tag ref that was pushed … refs/heads/<branch_name>"
      GITHUB_REF_NAME: 'feature/login', // [vars] "The short ref name of the branch or tag"
      GITHUB_REF_PROTECTED: 'false', // [vars] "true if branch protections … are configured"
      GITHUB_REF_TYPE: 'branch', // [vars] "The type of ref … Valid values are branch or tag."
      GITHUB_REPOSITORY: 'octo-org/octo-repo', // [vars] "The owner and repository name."
      GITHUB_REPOSITORY_OWNER: 'octo-org', // [vars] "The repository owner's name."
      GITHUB_RETENTION_DAYS: '0', // [act] (GitHub: days logs and artifacts are kept)
      GITHUB_RUN_ATTEMPT: '1', // [vars] "begins with 1 for the workflow run's first attempt"; [act] "1"
      GITHUB_RUN_ID: '1', // [vars] "A unique number for each workflow run"; [act] "1"
      GITHUB_RUN_NUMBER: '1', // [vars] "begins with 1 for the workflow's first run"; [act] "1"
      GITHUB_SERVER_URL: 'https://github.com', // [vars] "The URL of the GitHub server."
      GITHUB_SHA: SHA, // [vars] "The commit SHA that triggered the workflow" (HEAD of the checkout)
      GITHUB_TRIGGERING_ACTOR: 'nektos/act', // [vars] "The username of the user that initiated the workflow run"
      GITHUB_WORKFLOW: 'CI', // [vars] "The name of the workflow. … If the workflow file doesn't specify a name, … the full path"
      GITHUB_WORKFLOW_REF: 'octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/feature/login', // [vars] "The ref path to the workflow."
      GITHUB_WORKFLOW_SHA: SHA, // [vars] "The commit SHA for the workflow file."
      GITHUB_WORKSPACE: '/work/octo-repo', // [vars] "The default working directory on the runner for steps"
      RUNNER_ARCH: 'X64', // [vars] "Possible values are X86, X64, ARM, or ARM64."
      RUNNER_ENVIRONMENT: 'self-hosted', // [vars] "github-hosted … or self-hosted"
      RUNNER_NAME: 'relay-dap', // [vars] "The name of the runner executing the job."
      RUNNER_OS: 'Linux', // [vars] "Possible values are Linux, Windows, or macOS."
      RUNNER_TEMP: '/tmp/relay-dap-job.x/temp', // [vars] "The path to a temporary directory on the runner."
      RUNNER_TOOL_CACHE: '/opt/hostedtoolcache', // [vars] "The path to the directory containing preinstalled tools"
    });
    // [vars] RUNNER_DEBUG "is set only if debug logging is enabled"
    expect(env).not.toHaveProperty('RUNNER_DEBUG');
  });

  it('gives the github context the same values, and the token only there', () => {
    for (const [name, key] of [
      ['GITHUB_SHA', 'sha'],
      ['GITHUB_REF', 'ref'],
      ['GITHUB_REF_NAME', 'ref_name'],
      ['GITHUB_REF_TYPE', 'ref_type'],
      ['GITHUB_REPOSITORY', 'repository'],
      ['GITHUB_REPOSITORY_OWNER', 'repository_owner'],
      ['GITHUB_WORKSPACE', 'workspace'],
      ['GITHUB_EVENT_PATH', 'event_path'],
      ['GITHUB_RUN_ID', 'run_id'],
      ['GITHUB_JOB', 'job'],
      ['GITHUB_WORKFLOW', 'workflow'],
      ['GITHUB_SERVER_URL', 'server_url'],
    ] as const) {
      expect(github[key], key).toBe(env[name]);
    }
    expect(github.ref_protected).toBe(false); // [ctx] a boolean
    // [ctx] github.token "A token to authenticate on behalf of the GitHub App"; not a default variable.
    expect(github.token).toBe('ghs_token');
    expect(Object.values(env)).not.toContain('ghs_token');
    // [act] the event gets repository.default_branch ("master" unless given).
    expect(github.event).toEqual({ repository: { default_branch: 'master' } });
  });

  it('builds the runner context as documented', () => {
    // [ctx] runner.os "Linux", arch, temp, tool_cache, name, environment; debug only when on.
    expect(runner).toEqual({
      arch: 'X64',
      environment: 'self-hosted',
      name: 'relay-dap',
      os: 'Linux',
      temp: '/tmp/relay-dap-job.x/temp',
      tool_cache: '/opt/hostedtoolcache',
    });
    const debugging = buildJobContexts(
      input({ runner: { ...input().runner, debug: true, name: 'gpu-box' } }),
    );
    expect(debugging.runner.debug).toBe('1'); // [ctx] "always has the value of 1"
    expect(debugging.env.RUNNER_DEBUG).toBe('1');
    expect(debugging.env.RUNNER_NAME).toBe('gpu-box');
  });
});

describe('buildJobContexts: refs and events', () => {
  it('reads a tag as ref_type tag', () => {
    const { env } = buildJobContexts(
      input({ git: { ...checkout, ref: 'refs/tags/v2.1.0', detached: true } }),
    );
    expect(env.GITHUB_REF).toBe('refs/tags/v2.1.0');
    expect(env.GITHUB_REF_NAME).toBe('v2.1.0'); // so VERSION=${GITHUB_REF_NAME#v} is 2.1.0
    expect(env.GITHUB_REF_TYPE).toBe('tag');
  });

  it('falls back as act does with no ref, no commit and no origin', () => {
    const { github, env } = buildJobContexts(input({ git: undefined }));
    expect(env.GITHUB_REF).toBe('refs/heads/master'); // [act] refs/heads/<default branch>, "master"
    expect(env.GITHUB_REF_NAME).toBe('master');
    expect(env.GITHUB_SHA).toBe(''); // [act] unknown
    expect(env.GITHUB_REPOSITORY).toBe('nektos/act'); // [act] "nektos/act is used as a default action, so why not a repo?"
    expect(env.GITHUB_REPOSITORY_OWNER).toBe('nektos');
    expect(github.event).toEqual({ repository: { default_branch: 'master' } });
    const main = buildJobContexts(input({ git: undefined, defaultBranch: 'main' }));
    expect(main.env.GITHUB_REF).toBe('refs/heads/main');
  });

  it('takes ref and sha of a push from its payload, as act does', () => {
    const event = { ref: 'refs/heads/release', after: 'f'.repeat(40), deleted: false };
    const { env, github } = buildJobContexts(input({ event }));
    expect(env.GITHUB_REF).toBe('refs/heads/release');
    expect(env.GITHUB_SHA).toBe('f'.repeat(40));
    expect(github.event).toEqual(event);
  });

  it('sets base_ref, head_ref and the merge ref for a pull_request', () => {
    const event = {
      number: 42,
      pull_request: { base: { ref: 'main', sha: 'b'.repeat(40) }, head: { ref: 'fix/typo' } },
    };
    const { env, github } = buildJobContexts(input({ eventName: 'pull_request', event }));
    expect(env.GITHUB_EVENT_NAME).toBe('pull_request');
    expect(env.GITHUB_REF).toBe('refs/pull/42/merge'); // [vars] "refs/pull/<pr_number>/merge"
    expect(env.GITHUB_REF_NAME).toBe('42/merge'); // [vars] "<pr_number>/merge"
    expect(env.GITHUB_BASE_REF).toBe('main'); // [vars] "the target branch of the pull request"
    expect(env.GITHUB_HEAD_REF).toBe('fix/typo'); // [vars] "the source branch of the pull request"
    expect(env.GITHUB_SHA).toBe(SHA); // [act] the checkout's HEAD
    expect(github.base_ref).toBe('main');
    const target = buildJobContexts(input({ eventName: 'pull_request_target', event }));
    expect(target.env.GITHUB_REF).toBe('refs/heads/main'); // [act] the base branch
    expect(target.env.GITHUB_SHA).toBe('b'.repeat(40)); // [act] pull_request.base.sha
  });

  it('derives Enterprise Server URLs from the instance as act does', () => {
    const { env } = buildJobContexts(input({ githubInstance: 'ghe.corp.example' }));
    expect(env.GITHUB_SERVER_URL).toBe('https://ghe.corp.example');
    expect(env.GITHUB_API_URL).toBe('https://ghe.corp.example/api/v3'); // [vars] "http(s)://HOSTNAME/api/v3"
    expect(env.GITHUB_GRAPHQL_URL).toBe('https://ghe.corp.example/api/graphql');
  });
});

describe('buildJobContexts: launch overrides (github: {...})', () => {
  it('overrides any field, in the context and its variable alike, and what derives from it', () => {
    const { github, env } = buildJobContexts(
      input({
        overrides: {
          ref: 'refs/tags/v9',
          repository: 'fork/thing',
          run_id: 7,
          actor: 'octocat',
          server_url: 'https://x',
        },
      }),
    );
    expect(github.run_id).toBe(7);
    expect(env.GITHUB_RUN_ID).toBe('7');
    expect(env.GITHUB_REF).toBe('refs/tags/v9');
    expect(env.GITHUB_REF_NAME).toBe('v9');
    expect(env.GITHUB_REF_TYPE).toBe('tag');
    expect(env.GITHUB_REPOSITORY_OWNER).toBe('fork');
    expect(env.GITHUB_WORKFLOW_REF).toBe('fork/thing/.github/workflows/ci.yml@refs/tags/v9');
    expect(env.GITHUB_ACTOR).toBe('octocat');
    expect(env.GITHUB_TRIGGERING_ACTOR).toBe('octocat');
    expect(env.GITHUB_SERVER_URL).toBe('https://x');
  });

  it('keeps an overridden derived field', () => {
    const { env } = buildJobContexts(input({ overrides: { ref: 'refs/heads/a', ref_name: 'custom' } }));
    expect(env.GITHUB_REF_NAME).toBe('custom');
  });
});

describe('stepActionNames and withAction', () => {
  it('names steps as GitHub documents GITHUB_ACTION', () => {
    // [vars] "the id of a step … __run … the second script … __run_2"
    expect(
      stepActionNames([
        { id: 'build' },
        {},
        {},
        { uses: 'actions/checkout@v4' },
        { uses: 'actions/checkout@v4' },
        { id: 'lint', uses: 'actions/setup-node@v4' },
      ]),
    ).toEqual(['build', '__run', '__run_2', '__actions_checkout', '__actions_checkout_2', 'lint']);
  });

  it('sets github.action and GITHUB_ACTION for one step', () => {
    const step = withAction(buildJobContexts(input()), '__run_2');
    expect(step.github.action).toBe('__run_2');
    expect(step.env.GITHUB_ACTION).toBe('__run_2');
  });
});

/**
 * The `github` and `runner` contexts of a workflow job and the default environment variables
 * every step gets, with the same values, as GitHub documents them ("Contexts reference": github
 * context, runner context; "Variables reference": default environment variables). A pure
 * function of what the caller found out: the git checkout (gitCheckout.ts), the launch
 * arguments, the job and workflow, and paths on the far side (where the steps run).
 *
 * Where a value cannot be what GitHub would give, act (nektos/act, pkg/runner/run_context.go and
 * pkg/model/github_context.go) is followed, so a workflow sees what it sees under act:
 * - act: `run_id`, `run_number`, `run_attempt` "1"; `retention_days` "0"; `actor` "nektos/act";
 *   `repository` "nektos/act" with no `origin` remote; `ref` from the event payload for
 *   push/create/workflow_dispatch/release/deployment/pull_request*, else the checkout's branch
 *   or tag, else `refs/heads/` + the default branch ("master" unless given); `ref_name` and
 *   `ref_type` from `ref` (`refs/pull/N/merge` → ref_name "N/merge", ref_type ""); `sha` from
 *   the payload's `after` for a push, `pull_request.base.sha` for pull_request_target, else
 *   HEAD; `server_url`/`api_url`/`graphql_url` from the GitHub instance (github.com, or
 *   https://HOST, /api/v3, /api/graphql for Enterprise Server); the event's
 *   `repository.default_branch` filled in when absent.
 * - GitHub: `event_name` default "push"; `base_ref`/`head_ref` only for pull_request and
 *   pull_request_target (from the payload); `workflow_ref` and `workflow_sha`; `token` =
 *   secrets.GITHUB_TOKEN or ""; `triggering_actor` = actor; `ref_protected` "false";
 *   `runner.os` "Linux" (steps run in bash on the far side); `runner.environment`
 *   "self-hosted" (it is the user's machine, not a GitHub-hosted one); `RUNNER_DEBUG` "1" only
 *   when debug is on; `CI` and `GITHUB_ACTIONS` "true".
 * The launch argument `github: {...}` overrides any field; fields derived from an overridden one
 * (ref_name from ref, repository_owner from repository) follow it unless given too.
 *
 * Not here, because they change per step and the job runner owns them: GITHUB_ENV,
 * GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_STATE, GITHUB_ACTION_PATH/_REPOSITORY/
 * _REF; GITHUB_ACTION is per step too: `stepActionNames` gives it, `withAction` sets it.
 */
import type { GitCheckout } from './gitCheckout.js';

export interface RunnerFacts {
  /** X86, X64, ARM or ARM64: asked of the far side. */
  arch: string;
  /** Far-side paths: the job's temporary directory and the tool cache. */
  temp: string;
  toolCache: string;
  /** Default "relay-dap". */
  name?: string;
  debug?: boolean;
}

export interface GithubContextInput {
  /** The checkout holding the workflow file, or undefined when it is in none. */
  git: GitCheckout | undefined;
  /** The job's id (the key under `jobs:`). */
  job: string;
  /** The workflow's `name:`, or without one its file's path in the repository. */
  workflow: string;
  /** The workflow file's path in the repository (.github/workflows/ci.yml), for workflow_ref. */
  workflowPath: string;
  /** Far side: the job's working directory, where the steps run. */
  workspace: string;
  /** Far side: where the event payload is written for the steps. */
  eventPath: string;
  /** Launch argument `event`; default "push". */
  eventName?: string;
  /** The payload read from the launch argument `eventPath`; default {}. */
  event?: Record<string, unknown>;
  /** secrets.GITHUB_TOKEN */
  token?: string;
  actor?: string;
  /** act's --github-instance: github.com (default) or an Enterprise Server host. */
  githubInstance?: string;
  /** act's --defaultbranch, for a ref that nothing else gives. */
  defaultBranch?: string;
  runner: RunnerFacts;
  /** Launch argument `github: {...}`. */
  overrides?: Record<string, unknown>;
}

export type Context = Record<string, unknown>;

export interface JobContexts {
  github: Context;
  runner: Context;
  /** The default environment variables (strings), from the two contexts above. */
  env: Record<string, string>;
}

function lookup(value: unknown, ...keys: string[]): unknown {
  let at = value;
  for (const key of keys) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

/** act's SetRef: the ref an event of this name carries in its payload, if any. */
function refOfEvent(eventName: string, event: Context): string {
  switch (eventName) {
    case 'pull_request_target':
      return `refs/heads/${text(lookup(event, 'pull_request', 'base', 'ref'))}`;
    case 'pull_request':
    case 'pull_request_review':
    case 'pull_request_review_comment': {
      const number = lookup(event, 'number');
      return number === undefined ? '' : `refs/pull/${text(number)}/merge`;
    }
    case 'deployment':
    case 'deployment_status':
      return text(lookup(event, 'deployment', 'ref'));
    case 'release': {
      const tag = text(lookup(event, 'release', 'tag_name'));
      return tag === '' ? '' : `refs/tags/${tag}`;
    }
    case 'push':
    case 'create':
    case 'workflow_dispatch':
      return text(lookup(event, 'ref'));
    default: {
      const branch = text(lookup(event, 'repository', 'default_branch'));
      return branch === '' ? '' : `refs/heads/${branch}`;
    }
  }
}

/** act's SetSha: the commit an event of this name carries in its payload, if any. */
function shaOfEvent(eventName: string, event: Context): string {
  switch (eventName) {
    case 'pull_request_target':
      return text(lookup(event, 'pull_request', 'base', 'sha'));
    case 'deployment':
    case 'deployment_status':
      return text(lookup(event, 'deployment', 'sha'));
    case 'push':
    case 'create':
    case 'workflow_dispatch':
      return lookup(event, 'deleted') === false ? text(lookup(event, 'after')) : '';
    default:
      return '';
  }
}

/** act's SetRefTypeAndName. */
function refTypeAndName(ref: string): { type: string; name: string } {
  if (ref.startsWith('refs/tags/')) return { type: 'tag', name: ref.slice('refs/tags/'.length) };
  if (ref.startsWith('refs/heads/')) return { type: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/pull/')) return { type: '', name: ref.slice('refs/pull/'.length) };
  return { type: '', name: '' };
}

/** The event with `repository.default_branch` filled in, as act does, without changing `event`. */
function withDefaultBranch(event: Context, branch: string): Context {
  const repository = event.repository ?? {};
  if (typeof repository !== 'object' || repository === null || Array.isArray(repository)) return event;
  if ('default_branch' in repository) return event;
  return { ...event, repository: { ...repository, default_branch: branch } };
}

/** The `github` and `runner` contexts and the default variables of a job. */
export function buildJobContexts(input: GithubContextInput): JobContexts {
  const given = input.overrides ?? {};
  const has = (key: string): boolean => Object.hasOwn(given, key) && given[key] !== undefined;
  const eventName = has('event_name') ? text(given.event_name) : (input.eventName ?? 'push');
  let event: Context = has('event') ? (given.event as Context) : (input.event ?? {});

  let ref = has('ref') ? text(given.ref) : refOfEvent(eventName, event);
  if (ref === '') {
    ref = input.git?.ref ?? '';
    event = withDefaultBranch(event, input.defaultBranch ?? 'master');
    if (ref === '') ref = `refs/heads/${text(lookup(event, 'repository', 'default_branch'))}`;
  }
  let sha = has('sha') ? text(given.sha) : shaOfEvent(eventName, event);
  if (sha === '') sha = input.git?.sha ?? '';

  const origin = input.git?.origin;
  const repository = has('repository')
    ? text(given.repository)
    : origin !== undefined
      ? `${origin.owner}/${origin.name}`
      : 'nektos/act';
  const { type: refType, name: refName } = refTypeAndName(ref);
  const pullRequest = eventName === 'pull_request' || eventName === 'pull_request_target';

  const instance = input.githubInstance ?? 'github.com';
  const enterprise = instance !== 'github.com';
  const actor = input.actor ?? 'nektos/act';

  const github: Context = {
    action: '',
    action_path: '',
    action_ref: '',
    action_repository: '',
    actor,
    api_url: enterprise ? `https://${instance}/api/v3` : 'https://api.github.com',
    base_ref: pullRequest ? text(lookup(event, 'pull_request', 'base', 'ref')) : '',
    event,
    event_name: eventName,
    event_path: input.eventPath,
    graphql_url: enterprise ? `https://${instance}/api/graphql` : 'https://api.github.com/graphql',
    head_ref: pullRequest ? text(lookup(event, 'pull_request', 'head', 'ref')) : '',
    job: input.job,
    ref,
    ref_name: refName,
    ref_protected: false,
    ref_type: refType,
    repository,
    repository_owner: repository.split('/')[0] ?? '',
    retention_days: '0',
    run_attempt: '1',
    run_id: '1',
    run_number: '1',
    server_url: enterprise ? `https://${instance}` : 'https://github.com',
    sha,
    token: input.token ?? '',
    triggering_actor: actor,
    workflow: input.workflow,
    workflow_ref: `${repository}/${input.workflowPath}@${ref}`,
    workflow_sha: sha,
    workspace: input.workspace,
    ...given,
  };
  // Overrides of what a value is derived from carry through, unless the value is given too.
  if (!has('repository_owner')) github.repository_owner = text(github.repository).split('/')[0] ?? '';
  if (!has('workflow_ref')) github.workflow_ref = `${text(github.repository)}/${input.workflowPath}@${ref}`;
  if (!has('workflow_sha')) github.workflow_sha = sha;
  if (!has('triggering_actor')) github.triggering_actor = github.actor;

  const runner: Context = {
    arch: input.runner.arch,
    environment: 'self-hosted',
    name: input.runner.name ?? 'relay-dap',
    os: 'Linux',
    temp: input.runner.temp,
    tool_cache: input.runner.toolCache,
  };
  // runner.debug and RUNNER_DEBUG: "set only if debug logging is enabled, and always … 1".
  if (input.runner.debug === true) runner.debug = '1';

  const env: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTION: text(github.action),
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTOR: text(github.actor),
    GITHUB_API_URL: text(github.api_url),
    GITHUB_BASE_REF: text(github.base_ref),
    GITHUB_EVENT_NAME: text(github.event_name),
    GITHUB_EVENT_PATH: text(github.event_path),
    GITHUB_GRAPHQL_URL: text(github.graphql_url),
    GITHUB_HEAD_REF: text(github.head_ref),
    GITHUB_JOB: text(github.job),
    GITHUB_REF: text(github.ref),
    GITHUB_REF_NAME: text(github.ref_name),
    GITHUB_REF_PROTECTED: text(github.ref_protected),
    GITHUB_REF_TYPE: text(github.ref_type),
    GITHUB_REPOSITORY: text(github.repository),
    GITHUB_REPOSITORY_OWNER: text(github.repository_owner),
    GITHUB_RETENTION_DAYS: text(github.retention_days),
    GITHUB_RUN_ATTEMPT: text(github.run_attempt),
    GITHUB_RUN_ID: text(github.run_id),
    GITHUB_RUN_NUMBER: text(github.run_number),
    GITHUB_SERVER_URL: text(github.server_url),
    GITHUB_SHA: text(github.sha),
    GITHUB_TRIGGERING_ACTOR: text(github.triggering_actor),
    GITHUB_WORKFLOW: text(github.workflow),
    GITHUB_WORKFLOW_REF: text(github.workflow_ref),
    GITHUB_WORKFLOW_SHA: text(github.workflow_sha),
    GITHUB_WORKSPACE: text(github.workspace),
    RUNNER_ARCH: text(runner.arch),
    RUNNER_ENVIRONMENT: text(runner.environment),
    RUNNER_NAME: text(runner.name),
    RUNNER_OS: text(runner.os),
    RUNNER_TEMP: text(runner.temp),
    RUNNER_TOOL_CACHE: text(runner.tool_cache),
  };
  if (runner.debug === '1') env.RUNNER_DEBUG = '1';
  return { github, runner, env };
}

/**
 * GITHUB_ACTION / `github.action` of each step: its `id`, or for a step without one `__run`
 * (a script) or `__OWNER_REPO` (an action, other characters as `_`), with `_2`, `_3` … for the
 * second and later such names in the job, as GitHub documents.
 */
export function stepActionNames(steps: readonly { id?: string; uses?: string }[]): string[] {
  const seen = new Map<string, number>();
  return steps.map((step) => {
    if (step.id !== undefined && step.id !== '') return step.id;
    const uses = step.uses?.split('@')[0];
    const base =
      uses === undefined ? '__run' : `__${uses.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}_${count}`;
  });
}

/** The contexts and variables of one step: `github.action` and GITHUB_ACTION set to `action`. */
export function withAction(contexts: JobContexts, action: string): JobContexts {
  return {
    github: { ...contexts.github, action },
    runner: contexts.runner,
    env: { ...contexts.env, GITHUB_ACTION: action },
  };
}

/**
 * A command's environment with the default variables in: GitHub's rule ("Variables reference":
 * the `GITHUB_*` and `RUNNER_*` defaults cannot be overwritten; `CI` currently can), so `env`
 * (the workflow's, a step's, GITHUB_ENV, the launch's) may set CI but never GITHUB_SHA.
 */
export function withDefaultVariables(
  env: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>,
): Record<string, string> {
  const fixed = (name: string): boolean => name.startsWith('GITHUB_') || name.startsWith('RUNNER_');
  const overridable = Object.entries(defaults).filter(([name]) => !fixed(name));
  const reserved = Object.entries(defaults).filter(([name]) => fixed(name));
  return { ...Object.fromEntries(overridable), ...env, ...Object.fromEntries(reserved) };
}

/**
 * What the editor's side knows of the run GitHub would make of a workflow job, read at launch
 * where the workflow file is: its git checkout (gitCheckout.ts), the event payload named by the
 * launch argument `eventPath`, the event's name and the `github: {...}` overrides. The far
 * side's part (workspace, runner arch, the job folder) is asked once the relay is open
 * (workflowSteps.ts); buildJobContexts puts the two together.
 */
import path from 'node:path';
import { readUserText } from '../io/userFile.js';
import { expressionContext, type ExpressionContext, type RunContexts } from '../model/expressionContext.js';
import type { JobStatus } from '../model/stepResult.js';
import { readGitCheckout, type GitCheckout } from '../workflow/gitCheckout.js';
import { buildJobContexts } from '../workflow/githubContext.js';
import { evaluateLocatedCondition } from '../workflow/locatedExpressions.js';
import { jobTimeoutSeconds } from '../workflow/jobTimeout.js';
import { asWorkflowJob } from '../workflow/workflowFile.js';
import type { JobDefinition } from '../model/jobModel.js';
import { NO_LAUNCH_CONTEXTS, secretNamed, type LaunchContexts } from './launchContexts.js';

export interface GithubFacts {
  git: GitCheckout | undefined;
  /** The workflow file's path in the repository (.github/workflows/ci.yml), or its file name. */
  workflowPath: string;
  eventName: string;
  event: Record<string, unknown>;
  overrides: Record<string, unknown>;
  /** The launch's `secrets`, `vars` and `inputs` (launchContexts.ts); `github.token` is secrets.GITHUB_TOKEN. */
  values: LaunchContexts;
}

export interface GithubLaunchArguments {
  event?: string;
  eventPath?: string;
  github?: Record<string, unknown>;
}

/** Reads the checkout and the event payload. Throws an Error naming `eventPath` when it is not a JSON object. */
export async function readGithubFacts(
  workflowFile: string,
  given: GithubLaunchArguments,
): Promise<GithubFacts> {
  const git = await readGitCheckout(workflowFile);
  const root = git?.root;
  const relative = root === undefined ? undefined : path.relative(root, workflowFile);
  const workflowPath =
    relative === undefined || relative.startsWith('..')
      ? path.basename(workflowFile)
      : relative.split(path.sep).join('/');
  return {
    git,
    workflowPath,
    eventName: given.event ?? 'push',
    event: given.eventPath === undefined ? {} : await readEventPayload(given.eventPath),
    overrides: given.github ?? {},
    values: NO_LAUNCH_CONTEXTS,
  };
}

/** `github.token`: secrets.GITHUB_TOKEN, or empty (GitHub's rule; act's too). */
export function githubToken(facts: Pick<GithubFacts, 'values'>): string {
  return secretNamed(facts.values.secrets, 'GITHUB_TOKEN') ?? '';
}

async function readEventPayload(eventPath: string): Promise<Record<string, unknown>> {
  const { file, text } = await readUserText(
    eventPath,
    'event payload (eventPath)',
    'give `eventPath` as the absolute path of a JSON file, as a webhook delivers it',
  );
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `the event payload (eventPath) ${file} is not valid JSON (${(error as Error).message}): give a webhook payload, a JSON object`,
      { cause: error },
    );
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new Error(
      `the event payload (eventPath) ${file} is not a JSON object: give a webhook payload such as {"pull_request": {...}}`,
    );
  }
  return payload as Record<string, unknown>;
}

/**
 * A job-level `if:` reading `github` (`github.repository == 'owner/repo'`, `github.event_name
 * == 'push'`), `vars` or `inputs` (`inputs.deploy`): decided now, with the github context of the
 * checkout and the launch arguments and the launch's values, as GitHub decides it before the job
 * starts; false marks the job skipped. The far side's fields (workspace, event_path) are not
 * known yet and read as empty. The `if:` of a job with `needs:` waits for their results
 * (jobConditionHolds, when the run gets there).
 */
export function decideGithubCondition(loaded: JobDefinition, facts: GithubFacts): void {
  const job = asWorkflowJob(loaded);
  const pending = job?.githubCondition;
  const decidedInRun = job?.workflow.needs !== undefined || job?.workflow.call !== undefined;
  if (job === undefined || pending === undefined || decidedInRun) return;
  if (!evaluateLocatedCondition(pending.located, jobLevelContext(job.workflow, facts, {}, 'success')))
    job.workflow.skipped = { line: pending.line, condition: pending.condition };
}

/**
 * A job-level `timeout-minutes:` reading `github`, `vars` or `inputs`, evaluated now with the
 * launch's values, as GitHub evaluates it before the job starts.
 */
export function settleGithubTimeout(loaded: JobDefinition, facts: GithubFacts): void {
  const job = asWorkflowJob(loaded);
  const pending = job?.githubTimeout;
  if (job === undefined || pending === undefined) return;
  job.workflow.timeoutSeconds = jobTimeoutSeconds(pending, job.workflow.matrix, {
    ...facts.values,
    github: launchGithub(job.workflow, facts),
    runner: {},
  });
}

/** The `github` context as known at launch: the far side's fields (workspace, event_path) read as empty. */
function launchGithub(
  job: { jobId: string; workflowName?: string },
  facts: GithubFacts | undefined,
): Record<string, unknown> {
  const { github } = buildJobContexts({
    git: facts?.git,
    job: job.jobId,
    workflow: job.workflowName ?? facts?.workflowPath ?? '',
    workflowPath: facts?.workflowPath ?? '',
    workspace: '',
    eventPath: '',
    eventName: facts?.eventName ?? 'push',
    event: facts?.event ?? {},
    ...(facts !== undefined ? { token: githubToken(facts) } : {}),
    runner: { arch: '', temp: '', toolCache: '' },
    overrides: facts?.overrides ?? {},
  });
  return github;
}

/**
 * Whether a job runs, decided when the jobs it needs have ended: its `if:` with `needs` and
 * the status functions as those jobs left them; without an `if:`, GitHub's implicit
 * `success()` (every job it needs succeeded). Throws an ExpressionError naming the line.
 */
export function jobConditionHolds(
  loaded: JobDefinition,
  facts: GithubFacts | undefined,
  given: Pick<RunContexts, 'needs' | 'inputs' | 'secrets'>,
  status: JobStatus,
): boolean {
  const job = asWorkflowJob(loaded);
  if (job === undefined) return true;
  if (job.workflow.skipped !== undefined) return false;
  const pending = job.githubCondition;
  if (pending === undefined) return status === 'success';
  return evaluateLocatedCondition(pending.located, jobLevelContext(job.workflow, facts, given, status));
}

/**
 * The contexts of a job-level `if:` (and of a caller's `with:` and `secrets:`) before the job
 * starts: `github` (the far side's fields empty), the launch's values, and what the run gives
 * (`needs`; a called workflow's `inputs` and `secrets`, over the launch's).
 */
export function jobLevelContext(
  job: { jobId: string; workflowName?: string },
  facts: GithubFacts | undefined,
  given: Pick<RunContexts, 'needs' | 'inputs' | 'secrets'>,
  status: JobStatus,
): ExpressionContext {
  return expressionContext(
    { origin: 'workflow', steps: [], workflow: { jobId: job.jobId, matrix: {} } },
    {},
    status,
    new Map(),
    { ...facts?.values, github: launchGithub(job, facts), runner: {}, ...given },
  );
}

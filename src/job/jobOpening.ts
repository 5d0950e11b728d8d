/**
 * Everything a session needs from its first launch or attach on: building the jobs (a
 * command, inline steps, a job file or workflow, or the command another client runs), arming
 * their breakpoints, starting the embedded relay or reaching the user's, and making the run.
 * JobSession (jobSession.ts) loads this module at the first launch or attach and nowhere else:
 * an editor's `initialize` is answered without it and the workflow, expression, YAML and
 * relay client code under it (the bundle puts it in dist/job.cjs; scripts/bundle.mjs).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RelayClient } from '../relay/client.js';
import type { EmbeddedRelay } from '../relay/embeddedRelay.js';
import type { NeedContext } from '../model/expressionContext.js';
import type { JobDefinition } from '../model/jobModel.js';
import { Breakpoints } from './breakpoints.js';
import { markDebugSteps } from './debugSteps.js';
import type { GithubFacts } from './githubFacts.js';
import { jobForAttachment } from './jobFromAttach.js';
import { jobFromCommand, jobFromSteps } from './jobFromLaunch.js';
import { JobError } from './jobErrors.js';
import type { AttachRequest, JobRequest, JobSessionHooks, LaunchRequest } from './jobRequest.js';
import { JobRunner, type StepPreparer } from './jobRunner.js';
import { WorkflowRun, type GivenContexts } from './workflowRun.js';

/** A launch's jobs (in run order), what the editor's side knows of its run, and what to say of it at launch. */
export interface BuiltJobs {
  jobs: JobDefinition[];
  facts: GithubFacts | undefined;
  /** Console lines: a secrets file open to others, a secret the job reads that is not given. */
  notes: string[];
}

/** A job opened on its relay: the run, not started yet, and what to release at the end. */
export interface OpenedJob {
  run: WorkflowRun;
  relay: RelayClient;
  embedded: EmbeddedRelay | undefined;
  /** Attach: the id of the command followed. */
  following?: string;
}

/** The jobs of the run, with the steps `debugSteps` names marked. */
export async function buildJobs(request: LaunchRequest): Promise<BuiltJobs> {
  const built = await readJobs(request);
  if (request.debugSteps !== undefined) markDebugSteps(built.jobs, request.debugSteps);
  return built;
}

/** The jobs of the run, and for a workflow what the editor's side knows of its run (git, event, secrets). */
async function readJobs(request: LaunchRequest): Promise<BuiltJobs> {
  if (request.command !== undefined)
    return { jobs: [jobFromCommand(request.command, request.cwd)], facts: undefined, notes: [] };
  if (request.steps !== undefined)
    return { jobs: [jobFromSteps(request.steps, request.cwd)], facts: undefined, notes: [] };
  // The YAML and workflow code loads only for a job file: a command's launch stays short.
  const { loadProgramRun } = await import('./jobFromProgram.js');
  try {
    const jobs = await loadProgramRun(request.program!, {
      ...(request.job !== undefined ? { job: request.job } : {}),
      ...(request.matrix !== undefined ? { matrix: request.matrix } : {}),
      supplied: Object.keys(request.needs ?? {}),
    });
    const launched = jobs[jobs.length - 1]!;
    const { asWorkflowJob } = await import('../workflow/workflowFile.js');
    const workflow = asWorkflowJob(launched);
    const sourcePath = launched.sourcePath;
    if (workflow === undefined || sourcePath === undefined) return { jobs, facts: undefined, notes: [] };
    const { readGithubFacts, decideGithubCondition, settleGithubTimeout } = await import('./githubFacts.js');
    const github = await readGithubFacts(sourcePath, {
      ...(request.event !== undefined ? { event: request.event } : {}),
      ...(request.eventPath !== undefined ? { eventPath: request.eventPath } : {}),
      ...(request.github !== undefined ? { github: request.github } : {}),
    });
    const { readLaunchContexts, repositoryRoot, withDispatchInputs } = await import('./launchContexts.js');
    const root = repositoryRoot(sourcePath, github.git);
    const values = await readLaunchContexts(workflow, root, request);
    const event = withDispatchInputs(github.eventName, github.event, values.contexts.inputs);
    const facts = { ...github, event, values: values.contexts };
    const { withActions } = await import('./actionLoading.js');
    const lookup = {
      root,
      ...(request.actionsCache !== undefined ? { actionsCache: path.resolve(request.actionsCache) } : {}),
    };
    const withTheirActions: JobDefinition[] = [];
    for (const job of jobs) {
      decideGithubCondition(job, facts);
      settleGithubTimeout(job, facts);
      const asWorkflow = asWorkflowJob(job);
      withTheirActions.push(asWorkflow === undefined ? job : await withActions(asWorkflow, lookup));
    }
    return { jobs: withTheirActions, facts, notes: values.lines };
  } catch (error) {
    throw new JobError('invalid-job', (error as Error).message, { cause: error });
  }
}

/**
 * The breakpoints of the launched job (`job`) and of the jobs of its run that it needs
 * (`others`); conditions and log points read the contexts of the step they are on.
 */
export function armBreakpoints(
  job: JobDefinition,
  others: readonly JobDefinition[],
  log: (text: string) => void,
): Breakpoints {
  return new Breakpoints(job, (runner, stepIndex) => runner.expressionContext(stepIndex), log, others);
}

/**
 * Connects the relay and makes the run, not started yet: each of its jobs gets its runner,
 * on this relay, when the run gets to it. `built`: the launch's jobs, if already built.
 */
export async function openJob(
  request: JobRequest,
  built: BuiltJobs | undefined,
  hooks: JobSessionHooks,
  pausePolicy: Breakpoints | undefined,
): Promise<OpenedJob> {
  const {
    relay,
    embedded,
    jobs,
    facts,
    following,
    preparer: attached,
  } = request.kind === 'attach'
    ? await connectAttach(request, hooks)
    : await connectLaunch(request, built ?? (await buildJobs(request)), hooks);
  const launch = request.kind === 'launch' ? request : undefined;
  const { WorkflowSteps } = jobs.some((job) => job.origin === 'workflow')
    ? await import('./workflowSteps.js')
    : { WorkflowSteps: undefined };
  const { jobConditionHolds, jobLevelContext } = await import('./githubFacts.js');
  // The job the launch names (the last to run); a whole workflow's run pauses on entry only once.
  const launched = launch?.job !== undefined ? jobs[jobs.length - 1] : undefined;
  const makeRunner = (job: JobDefinition, given: GivenContexts, first: boolean): JobRunner => {
    const timeout = launch ? (launch.timeout ?? job.workflow?.timeoutSeconds) : undefined;
    const workflowSteps =
      WorkflowSteps !== undefined && job.origin === 'workflow'
        ? new WorkflowSteps(job, (text) => hooks.console(text), facts, given)
        : undefined;
    const preparer: StepPreparer | undefined = attached ?? workflowSteps;
    return new JobRunner({
      job,
      relay,
      ...(launch?.cwd !== undefined ? { cwd: launch.cwd } : {}),
      env: launch?.env ?? {},
      // The run pauses on entry to its first job and to the job launched.
      stopOnEntry: launch ? (launch.stopOnEntry ?? true) && (first || job === launched) : false,
      noDebug: launch?.noDebug ?? false,
      lease: launch?.lease ?? false,
      ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
      output: hooks.output,
      ...(pausePolicy ? { pausePolicy } : {}),
      ...(preparer ? { preparer } : {}),
    });
  };
  const run = new WorkflowRun({
    jobs,
    supplied: suppliedNeeds(launch),
    makeRunner,
    conditionHolds: (job, given, status) => jobConditionHolds(job, facts, given, status),
    callerContext: (caller, given, status) => jobLevelContext({ jobId: caller }, facts, given, status),
    ...(facts !== undefined ? { secrets: facts.values.secrets } : {}),
  });
  return { run, relay, embedded, ...(following !== undefined ? { following } : {}) };
}

interface Connected {
  relay: RelayClient;
  embedded: EmbeddedRelay | undefined;
  /** The jobs of the run, in run order. */
  jobs: JobDefinition[];
  facts: GithubFacts | undefined;
  /** Attach: how the followed command is "prepared" (it already runs). */
  preparer?: StepPreparer;
  following?: string;
}

async function connectLaunch(
  request: LaunchRequest,
  built: BuiltJobs,
  hooks: JobSessionHooks,
): Promise<Connected> {
  const { jobs, facts } = built;
  const { RelayClient } = await import('../relay/client.js');
  if (request.relayDir === undefined) {
    const { startEmbeddedRelay } = await import('../relay/embeddedRelay.js');
    const embedded = await startEmbeddedRelay({
      workdir: embeddedWorkdir(request, jobs[jobs.length - 1]!),
      log: (line) => hooks.log(`embedded relay: ${line}`),
    });
    try {
      const relay = await RelayClient.open({ relayDir: embedded.relayDir });
      hearNotices(relay, hooks);
      return { relay, embedded, jobs, facts };
    } catch (error) {
      await embedded.dispose();
      throw error;
    }
  }
  const relay = await reachRelay(request.relayDir, request.connectTimeout, hooks);
  return { relay, embedded: undefined, jobs, facts };
}

async function connectAttach(request: AttachRequest, hooks: JobSessionHooks): Promise<Connected> {
  const relay = await reachRelay(request.relayDir, request.connectTimeout, hooks);
  try {
    const status = relay.status();
    const running = status.running?.id;
    if (running === undefined) {
      throw new JobError(
        'wrong-state',
        `nothing is running in ${relay.layout.root}${status.pending.length ? ` (${status.pending.length} queued)` : ''}: ` +
          'attach joins a running command; use launch to start one',
      );
    }
    const { job, preparer } = jobForAttachment(relay.layout.root, running);
    return { relay, embedded: undefined, following: running, jobs: [job], facts: undefined, preparer };
  } catch (error) {
    await relay.close();
    throw error;
  }
}

/** The user's relay (`relayDir`): a client, once its server answers within `connectTimeout`. */
async function reachRelay(
  relayDir: string,
  connectTimeout: number | undefined,
  hooks: JobSessionHooks,
): Promise<RelayClient> {
  const { RelayClient } = await import('../relay/client.js');
  const relay = await RelayClient.open({ relayDir, connectTimeoutMs: (connectTimeout ?? 10) * 1000 });
  hearNotices(relay, hooks);
  try {
    await relay.ensureServer();
  } catch (error) {
    await relay.close();
    throw error;
  }
  return relay;
}

/** What the relay tells a waiting user (a full disk) goes to the console, as `run` puts it on stderr. */
function hearNotices(relay: RelayClient, hooks: JobSessionHooks): void {
  relay.onNotice((line) => hooks.console(`relay-dap: ${line}`, 'important'));
}

/**
 * Where the embedded relay runs commands: the launch's `cwd` if it is a directory here, else
 * the repository of a workflow (the directory holding .github), the directory of a job file,
 * or the adapter's own directory.
 */
function embeddedWorkdir(request: LaunchRequest, job: JobDefinition): string {
  if (
    request.cwd !== undefined &&
    path.isAbsolute(request.cwd) &&
    fs.statSync(request.cwd, { throwIfNoEntry: false })?.isDirectory()
  ) {
    return request.cwd;
  }
  if (job.sourcePath !== undefined) {
    const repository = /^(.*)[/\\]\.github[/\\]workflows[/\\][^/\\]+$/.exec(job.sourcePath);
    return repository ? repository[1]! : path.dirname(job.sourcePath);
  }
  return process.cwd();
}

/** The `needs` launch argument as the run's `needs.<job>` (a result defaults to success). */
function suppliedNeeds(launch: LaunchRequest | undefined): Record<string, NeedContext> {
  const supplied: Record<string, NeedContext> = {};
  for (const [key, need] of Object.entries(launch?.needs ?? {}))
    supplied[key] = { result: need.result ?? 'success', outputs: { ...need.outputs } };
  return supplied;
}

/**
 * The Job API's entry point: a debug session's job, from its launch or attach arguments to
 * its disposal. It builds the job (a command, inline steps, a job file or workflow, or the
 * command another client runs), picks how its steps are prepared, starts the embedded relay
 * or reaches the user's, opens the relay client, stages breakpoints set before the job
 * existed, and releases all of it once. The session above translates DAP to these calls and
 * never sees a relay, a file or a process; what goes wrong comes out as a JobError with a
 * kind (jobErrors.ts).
 *
 * Two phases, because DAP has two: `load` reads the job as soon as `launch` arrives, so that
 * breakpoints sent before `configurationDone` are verified at once; `open` connects the relay
 * and makes the runner after `configurationDone`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RelayClient } from '../relay/client.js';
import type { EmbeddedRelay } from '../relay/embeddedRelay.js';
import { markDebugSteps } from './debugSteps.js';
import { jobForAttachment } from './jobFromAttach.js';
import { jobFromCommand, jobFromSteps, type InlineStep } from './jobFromLaunch.js';
import { JobError } from './jobErrors.js';
import type { NeedContext } from '../model/expressionContext.js';
import type { JobDefinition } from '../model/jobModel.js';
import type { JobResult } from '../model/stepResult.js';
import { JobRunner, type OutputSink, type StepPreparer } from './jobRunner.js';
import type { GithubFacts } from './githubFacts.js';
import { StagedBreakpoints, type ChangedBreakpoint, type SourceRef } from './stagedBreakpoints.js';
import type { LaunchValueArguments } from '../workflow/launchValues.js';
import { SecretMasker } from '../workflow/secretMasker.js';
import { WorkflowRun, type GivenContexts } from './workflowRun.js';

export type { SecretMasker };

/**
 * A launch: what to run (`command`, `steps` or `program`), where, and how; for a workflow, its
 * `secrets`, `vars` and `inputs` and the files they come from (launchValues.ts).
 */
export interface LaunchRequest extends LaunchValueArguments {
  kind: 'launch';
  command?: string;
  steps?: InlineStep[];
  program?: string;
  job?: string;
  matrix?: Record<string, unknown>;
  /** `needs.<job>` of jobs the launched job needs, given instead of running them. */
  needs?: Record<string, { result?: JobResult; outputs?: Record<string, string> }>;
  /** A workflow's `github.event_name` (default push), payload file and `github` overrides. */
  event?: string;
  eventPath?: string;
  github?: Record<string, unknown>;
  /** Where cached remote actions are (act's layout); default act's `~/.cache/act`. */
  actionsCache?: string;
  /** Steps (names or ids) whose Python processes run under debugpy (debugSteps.ts). */
  debugSteps?: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Absent: an embedded relay server in a private temporary directory. */
  relayDir?: string;
  connectTimeout?: number;
  stopOnEntry?: boolean;
  noDebug?: boolean;
  lease?: boolean;
  timeout?: number;
}

/** An attach: follow the command running in `relayDir`. */
export interface AttachRequest {
  kind: 'attach';
  relayDir: string;
  connectTimeout?: number;
}

export type JobRequest = LaunchRequest | AttachRequest;

export interface JobSessionHooks {
  /** A line for the adapter's own log. */
  log(line: string): void;
  /** A line for the user (the debug console). */
  console(line: string, category?: 'console' | 'important'): void;
  /** Where the output of steps and console commands goes. */
  output: OutputSink;
}

interface Opened {
  run: WorkflowRun;
  relay: RelayClient;
  embedded: EmbeddedRelay | undefined;
  /** Attach: the id of the command followed. */
  following?: string;
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

export class JobSession<S extends SourceRef> {
  readonly breakpoints: StagedBreakpoints<S>;
  /**
   * Every secret of the launch, and every value a step masks with `::add-mask::`: whatever the
   * session shows (output, console, variables, traces, logs) goes through it first.
   */
  readonly masker = new SecretMasker();
  /** The jobs of the run, in run order (the launched job last), and what the editor's side knows. */
  private loaded: Built | undefined;
  private opened: Opened | undefined;
  private released: Promise<void> | undefined;

  constructor(
    private readonly hooks: JobSessionHooks,
    /** Whether breakpoints in `source` are in `job` (the session knows how it names sources). */
    inJob: (source: S, job: JobDefinition) => boolean,
  ) {
    this.breakpoints = new StagedBreakpoints(inJob);
  }

  /** The run, once open. */
  get run(): WorkflowRun | undefined {
    return this.opened?.run;
  }

  /** Whether the relay is this session's own (it ends with the session, and its job with it). */
  get embedded(): boolean {
    return this.opened?.embedded !== undefined;
  }

  /**
   * A launch reads its job now: the breakpoints staged so far are armed, and returned as they
   * stand now. An attach has nothing to read before it reaches the relay.
   */
  async load(request: JobRequest): Promise<ChangedBreakpoint<S>[]> {
    if (request.kind === 'attach') return [];
    for (const value of Object.values(request.secrets ?? {})) this.masker.add(value);
    this.loaded = await buildJobs(request);
    const { jobs, facts, notes } = this.loaded;
    const job = jobs[jobs.length - 1]!;
    for (const value of Object.values(facts?.values.secrets ?? {})) this.masker.add(value);
    // What differs from GitHub's runner is said before anything runs (see runnerDifferences.ts).
    for (const each of jobs) {
      const whose = jobs.length > 1 ? `job '${each.name}': ` : '';
      for (const note of each.workflow?.launchNotes ?? [])
        this.hooks.console(`relay-dap: ${whose}${note.text}`);
    }
    for (const note of notes) this.hooks.console(`relay-dap: ${note}`);
    return this.breakpoints.load(
      job,
      (runner, stepIndex) => runner.expressionContext(stepIndex),
      (text) => this.hooks.console(text),
      jobs.slice(0, -1),
    );
  }

  /**
   * The console line of a loaded job whose job-level `if:` is false: GitHub skips such a job,
   * so nothing is opened or run, and the session ends at once (exit 0). Undefined otherwise.
   */
  get skipped(): string | undefined {
    const jobs = this.loaded?.jobs ?? [];
    const skipped = jobs.length === 1 ? jobs[0]!.workflow?.skipped : undefined;
    if (skipped === undefined) return undefined;
    return `relay-dap: This job was skipped: its if: ${skipped.condition} (line ${skipped.line}) is false, so no step runs`;
  }

  /**
   * Connects the relay and makes the run, not started yet: each of its jobs gets its runner,
   * on this relay, when the run gets to it.
   */
  async open(request: JobRequest): Promise<WorkflowRun> {
    const {
      relay,
      embedded,
      jobs,
      facts,
      following,
      preparer: attached,
    } = request.kind === 'attach' ? await this.connectAttach(request) : await this.connectLaunch(request);
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
          ? new WorkflowSteps(job, (text) => this.hooks.console(text), facts, given)
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
        output: this.hooks.output,
        ...(this.breakpoints.policy ? { pausePolicy: this.breakpoints.policy } : {}),
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
    this.opened = { run, relay, embedded, ...(following !== undefined ? { following } : {}) };
    return run;
  }

  /** What the adapter's log says about the job once it is open. */
  describe(request: JobRequest): string {
    const opened = this.opened!;
    const root = opened.relay.layout.root;
    if (request.kind === 'attach') return `attach: following ${opened.following} in ${root}`;
    const jobs = this.loaded?.jobs ?? [];
    const steps = jobs.reduce((sum, job) => sum + job.steps.length, 0);
    return `launch: ${jobs.length > 1 ? `${jobs.length} jobs, ` : ''}${steps} step(s) through ${opened.embedded ? 'an embedded relay' : root}${request.noDebug ? ' (noDebug)' : ''}`;
  }

  /** Let go of a running command (attach's disconnect): it goes on under its relay server. */
  async detach(): Promise<void> {
    const opened = this.opened;
    if (!opened) return;
    this.hooks.console(
      `relay-dap: leaving the running command to the relay server in ${opened.relay.layout.root}`,
    );
    await opened.relay.close();
  }

  /** Closes the relay client and removes the embedded relay, once; nothing before `open`. */
  dispose(): Promise<void> {
    const opened = this.opened;
    if (!opened) return Promise.resolve();
    this.released ??= (async () => {
      await opened.relay.close();
      await opened.embedded?.dispose();
    })();
    return this.released;
  }

  private async connectLaunch(request: LaunchRequest): Promise<Connected> {
    const { jobs, facts } = this.loaded ?? (await buildJobs(request));
    const { RelayClient } = await import('../relay/client.js');
    if (request.relayDir === undefined) {
      const { startEmbeddedRelay } = await import('../relay/embeddedRelay.js');
      const embedded = await startEmbeddedRelay({
        workdir: embeddedWorkdir(request, jobs[jobs.length - 1]!),
        log: (line) => this.hooks.log(`embedded relay: ${line}`),
      });
      try {
        const relay = await RelayClient.open({ relayDir: embedded.relayDir });
        this.hearNotices(relay);
        return { relay, embedded, jobs, facts };
      } catch (error) {
        await embedded.dispose();
        throw error;
      }
    }
    const relay = await this.reachRelay(request.relayDir, request.connectTimeout);
    return { relay, embedded: undefined, jobs, facts };
  }

  private async connectAttach(request: AttachRequest): Promise<Connected> {
    const relay = await this.reachRelay(request.relayDir, request.connectTimeout);
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
  private async reachRelay(relayDir: string, connectTimeout = 10): Promise<RelayClient> {
    const { RelayClient } = await import('../relay/client.js');
    const relay = await RelayClient.open({ relayDir, connectTimeoutMs: connectTimeout * 1000 });
    this.hearNotices(relay);
    try {
      await relay.ensureServer();
    } catch (error) {
      await relay.close();
      throw error;
    }
    return relay;
  }

  /** What the relay tells a waiting user (a full disk) goes to the console, as `run` puts it on stderr. */
  private hearNotices(relay: RelayClient): void {
    relay.onNotice((line) => this.hooks.console(`relay-dap: ${line}`, 'important'));
  }
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

/** The `needs` launch argument as the run's `needs.<job>` (a result defaults to success). */
function suppliedNeeds(launch: LaunchRequest | undefined): Record<string, NeedContext> {
  const supplied: Record<string, NeedContext> = {};
  for (const [key, need] of Object.entries(launch?.needs ?? {}))
    supplied[key] = { result: need.result ?? 'success', outputs: { ...need.outputs } };
  return supplied;
}

/** A launch's jobs (in run order), what the editor's side knows of its run, and what to say of it at launch. */
interface Built {
  jobs: JobDefinition[];
  facts: GithubFacts | undefined;
  /** Console lines: a secrets file open to others, a secret the job reads that is not given. */
  notes: string[];
}

/** The jobs of the run, with the steps `debugSteps` names marked. */
async function buildJobs(request: LaunchRequest): Promise<Built> {
  const built = await readJobs(request);
  if (request.debugSteps !== undefined) markDebugSteps(built.jobs, request.debugSteps);
  return built;
}

/** The jobs of the run, and for a workflow what the editor's side knows of its run (git, event, secrets). */
async function readJobs(request: LaunchRequest): Promise<Built> {
  if (request.command !== undefined)
    return { jobs: [jobFromCommand(request.command, request.cwd)], facts: undefined, notes: [] };
  if (request.steps !== undefined)
    return { jobs: [jobFromSteps(request.steps, request.cwd)], facts: undefined, notes: [] };
  // The YAML and workflow code loads only for a job file: start-up stays short.
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

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
 *
 * What a session needs before its first launch (the masker, breakpoints staged) is here; the
 * building and opening is in jobOpening.ts, imported at the first launch or attach and only
 * here, so that an editor's `initialize` is answered without loading it.
 */
import type { JobDefinition } from '../model/jobModel.js';
import { SecretMasker } from '../workflow/secretMasker.js';
import type { BuiltJobs, OpenedJob } from './jobOpening.js';
import type { JobRequest, JobSessionHooks } from './jobRequest.js';
import { StagedBreakpoints, type ChangedBreakpoint, type SourceRef } from './stagedBreakpoints.js';
import type { WorkflowRun } from './workflowRun.js';

export type { SecretMasker };
export type { AttachRequest, JobRequest, JobSessionHooks, LaunchRequest } from './jobRequest.js';

export class JobSession<S extends SourceRef> {
  readonly breakpoints: StagedBreakpoints<S>;
  /**
   * Every secret of the launch, and every value a step masks with `::add-mask::`: whatever the
   * session shows (output, console, variables, traces, logs) goes through it first.
   */
  readonly masker = new SecretMasker();
  /** The jobs of the run, in run order (the launched job last), and what the editor's side knows. */
  private loaded: BuiltJobs | undefined;
  private opened: OpenedJob | undefined;
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
    const { buildJobs, armBreakpoints } = await import('./jobOpening.js');
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
    const armed = armBreakpoints(job, jobs.slice(0, -1), (text) => this.hooks.console(text));
    return this.breakpoints.load(armed, job);
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
    const { openJob } = await import('./jobOpening.js');
    this.opened = await openJob(request, this.loaded, this.hooks, this.breakpoints.policy);
    return this.opened.run;
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
}

/**
 * A launch's run: the jobs it runs, one after another, through the same relay. One job (a
 * command, launch.json steps, a job file, a workflow job that needs nothing) is a run of one.
 * A workflow job that `needs` others runs after them, and a launch without `job` runs every
 * job of the workflow, in dependency order (workflowPlan.ts). Each job that starts is a thread
 * of its own for the session above; the jobs run one at a time, because the relay runs one
 * command at a time (GitHub would run independent jobs side by side: the console says so).
 *
 * Between jobs the run does what GitHub's orchestrator does: it decides each job-level `if:`
 * with the results of the jobs it needs (a job whose needs did not all succeed is skipped
 * unless its `if:` says otherwise), evaluates a finished job's `outputs:` from its steps, and
 * hands `outputs` and `result` on as `needs.<job>`. A launch can give `needs` instead of
 * running those jobs.
 *
 * Concurrency: `start` owns the sequence and only awaits the running job; `cancel` may come at
 * any time: it stops the job that runs (through its runner) and no further job starts.
 */
import { EventEmitter } from 'node:events';
import type { NeedContext } from '../model/expressionContext.js';
import type { JobDefinition } from '../model/jobModel.js';
import type { JobResult, JobStatus } from '../model/stepResult.js';
import { EXIT_CANCELLED } from '../relay/results.js';
import { evaluateTemplate } from '../workflow/locatedExpressions.js';
import { asWorkflowJob } from '../workflow/workflowFile.js';
import type { JobRunner } from './jobRunner.js';

/** A job of the run that started: the session shows it as a thread. */
export interface JobThread {
  /** 1 for the first job that starts, then 2, 3, … */
  id: number;
  runner: JobRunner;
}

export interface WorkflowRunEvents {
  /** A job starts (its runner is made, not started yet): a new thread. */
  jobStarted: [JobThread];
  /** Lines of the run itself for the console (jobs starting, skipped, their results). */
  message: [string];
  ended: [{ exitCode: number }];
}

export interface WorkflowRunOptions {
  /** The jobs, in run order (a matrix job once per combination). */
  jobs: readonly JobDefinition[];
  /** `needs.<job>` given by the launch for jobs that do not run. */
  supplied?: Readonly<Record<string, NeedContext>>;
  /** Makes the runner of a job, with what it needs; `first`: the first job that runs. */
  makeRunner(job: JobDefinition, needs: Record<string, NeedContext>, first: boolean): JobRunner;
  /** Whether the job's `if:` holds, given its needs and their status (githubFacts.ts). */
  conditionHolds(job: JobDefinition, needs: Record<string, NeedContext>, status: JobStatus): boolean;
}

/** A job's key under `jobs:` (a job that is not a workflow's has none: it needs nothing). */
function keyOf(job: JobDefinition): string | undefined {
  return job.workflow?.jobId;
}

export class WorkflowRun extends EventEmitter<WorkflowRunEvents> {
  private readonly threadList: JobThread[] = [];
  /** Results and outputs of the jobs so far, by key (a matrix job's combinations together). */
  private readonly finished = new Map<string, { results: JobResult[]; outputs: Record<string, string> }>();
  private cancelReason: string | undefined;
  private endedPromise: Promise<number> | undefined;
  private endedValue = false;

  constructor(private readonly options: WorkflowRunOptions) {
    super();
    for (const [key, need] of Object.entries(options.supplied ?? {}))
      this.finished.set(key, { results: [need.result], outputs: { ...need.outputs } });
  }

  /** Every job that started, first first. */
  get threads(): readonly JobThread[] {
    return this.threadList;
  }

  /** The job that runs now, or ran last. */
  get current(): JobThread | undefined {
    return this.threadList[this.threadList.length - 1];
  }

  get ended(): boolean {
    return this.endedValue;
  }

  /** Whether the run has more than one job: then each job is announced as a thread. */
  get multiJob(): boolean {
    return this.options.jobs.length > 1;
  }

  /** Runs the jobs; resolves with the run's exit code. */
  start(): Promise<number> {
    this.endedPromise ??= this.run().then((exitCode) => {
      this.endedValue = true;
      this.emit('ended', { exitCode });
      return exitCode;
    });
    return this.endedPromise;
  }

  /** Stops the running job and every job after it; resolves when the run has ended. */
  cancel(reason: string): Promise<number> {
    this.cancelReason ??= reason;
    const running = this.current?.runner;
    if (running !== undefined && running.state !== 'ended') void running.cancel(reason);
    return this.start();
  }

  private async run(): Promise<number> {
    const { jobs } = this.options;
    if (this.multiJob) {
      const names = [...new Set(jobs.map((job) => keyOf(job) ?? job.name))];
      this.emit(
        'message',
        `running ${jobs.length} jobs one after another, in the order of their needs: ${names.join(', ')} ` +
          '(GitHub runs jobs whose needs are met side by side; the relay runs one command at a time)',
      );
    }
    let firstFailure: number | undefined;
    for (const [index, job] of jobs.entries()) {
      if (this.cancelReason !== undefined) break;
      const key = keyOf(job) ?? job.name;
      const needs = this.needsOf(job);
      const label = this.multiJob ? `job ${index + 1}/${jobs.length} '${job.name}'` : `job '${job.name}'`;
      let holds: boolean;
      try {
        holds = this.options.conditionHolds(job, needs, this.statusFor(job));
      } catch (error) {
        this.emit('message', `${label}: its if: cannot be decided: ${(error as Error).message}`);
        this.record(key, 'failure', {});
        firstFailure ??= 1;
        continue;
      }
      if (!holds) {
        this.emit('message', `${label} was skipped: ${this.skipReason(job, needs)}`);
        this.record(key, 'skipped', {});
        continue;
      }
      if (this.multiJob) this.emit('message', `${label} starts`);
      const runner = this.options.makeRunner(job, needs, this.threadList.length === 0);
      const ending = { reason: 'failed' as 'finished' | 'failed' | 'cancelled' };
      runner.once('ended', (ended) => (ending.reason = ended.reason));
      this.threadList.push({ id: this.threadList.length + 1, runner });
      this.emit('jobStarted', this.current!);
      // A cancel that came while the runner was being made reaches it now.
      if (this.cancelReason !== undefined) void runner.cancel(this.cancelReason);
      const exitCode = await runner.start();
      const result: JobResult =
        ending.reason === 'finished' ? 'success' : ending.reason === 'cancelled' ? 'cancelled' : 'failure';
      this.record(key, result, this.outputsOf(runner, label));
      if (this.multiJob) this.emit('message', `${label}: ${result} (exit ${exitCode})`);
      if (result === 'failure') firstFailure ??= exitCode;
      if (result === 'cancelled') this.cancelReason ??= 'a job was cancelled';
    }
    if (this.cancelReason !== undefined) return EXIT_CANCELLED;
    return firstFailure ?? 0;
  }

  private record(key: string, result: JobResult, outputs: Record<string, string>): void {
    const known = this.finished.get(key) ?? { results: [], outputs: {} };
    known.results.push(result);
    Object.assign(known.outputs, outputs);
    this.finished.set(key, known);
  }

  /** `needs.<job>` of a job: its direct needs, each with outputs and one result for all its combinations. */
  private needsOf(job: JobDefinition): Record<string, NeedContext> {
    const needs: Record<string, NeedContext> = {};
    for (const key of job.workflow?.needs ?? []) {
      const known = this.finished.get(key);
      if (known === undefined) continue;
      needs[key] = { outputs: { ...known.outputs }, result: combined(known.results) };
    }
    return needs;
  }

  /**
   * What the status functions say in the job's `if:`: `failure()` when a job it needs, or one
   * those need, failed; `success()` when every job it needs succeeded; else (one was skipped)
   * neither.
   */
  private statusFor(job: JobDefinition): JobStatus {
    if (this.cancelReason !== undefined) return 'cancelled';
    if (this.ancestors(job).some((key) => this.finished.get(key)?.results.includes('failure')))
      return 'failure';
    const needs = job.workflow?.needs ?? [];
    const allSucceeded = needs.every((key) => {
      const known = this.finished.get(key);
      return known === undefined || combined(known.results) === 'success';
    });
    return allSucceeded ? 'success' : 'skipped';
  }

  private ancestors(job: JobDefinition): string[] {
    const found = new Set<string>();
    const byKey = new Map(this.options.jobs.map((each) => [keyOf(each), each]));
    const visit = (keys: readonly string[]): void => {
      for (const key of keys) {
        if (found.has(key)) continue;
        found.add(key);
        visit(byKey.get(key)?.workflow?.needs ?? []);
      }
    };
    visit(job.workflow?.needs ?? []);
    return [...found];
  }

  private skipReason(job: JobDefinition, needs: Record<string, NeedContext>): string {
    const skipped = job.workflow?.skipped;
    if (skipped !== undefined) return `its if: ${skipped.condition} (line ${skipped.line}) is false`;
    const condition = asWorkflowJob(job)?.githubCondition;
    if (condition !== undefined) return `its if: ${condition.condition} (line ${condition.line}) is false`;
    const unmet = Object.entries(needs)
      .filter(([, need]) => need.result !== 'success')
      .map(([key, need]) => `${key} (${need.result})`);
    return `a job it needs did not succeed: ${unmet.join(', ')}`;
  }

  /** The job's `outputs:`, from its steps as they ended; one that fails to evaluate is empty, and said. */
  private outputsOf(runner: JobRunner, label: string): Record<string, string> {
    const job = asWorkflowJob(runner.job);
    if (job === undefined) return {};
    const context = runner.expressionContext();
    const outputs: Record<string, string> = {};
    for (const [name, template] of Object.entries(job.outputExpressions ?? {})) {
      try {
        outputs[name] = evaluateTemplate(template, context);
      } catch (error) {
        this.emit('message', `${label}: output ${name} is empty: ${(error as Error).message}`);
        outputs[name] = '';
      }
    }
    return outputs;
  }
}

/** One result for a job's combinations: any failure fails it, then any cancel; all skipped is skipped. */
function combined(results: readonly JobResult[]): JobResult {
  if (results.includes('failure')) return 'failure';
  if (results.includes('cancelled')) return 'cancelled';
  if (results.length > 0 && results.every((result) => result === 'skipped')) return 'skipped';
  return 'success';
}

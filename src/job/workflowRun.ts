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
import type { ExpressionContext, NeedContext, RunContexts } from '../model/expressionContext.js';
import type { JobDefinition } from '../model/jobModel.js';
import type { JobResult, JobStatus } from '../model/stepResult.js';
import { EXIT_CANCELLED } from '../relay/results.js';
import type { WorkflowCall } from '../workflow/workflowCall.js';
import {
  evaluateLocatedCondition,
  evaluateTemplate,
  evaluateTemplateValue,
} from '../workflow/locatedExpressions.js';
import { isTruthy } from '../workflow/expressions.js';
import { asWorkflowJob } from '../workflow/workflowFile.js';
import { callOf } from '../workflow/workflowPlan.js';

/** What the run gives a job: `needs.<job>`, and for a job of a called workflow its `inputs` and `secrets`. */
export type GivenContexts = Pick<RunContexts, 'needs' | 'inputs' | 'secrets'>;
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
  /** Makes the runner of a job, with what the run gives it; `first`: the first job that runs. */
  makeRunner(job: JobDefinition, given: GivenContexts, first: boolean): JobRunner;
  /** Whether the job's `if:` holds, given its needs and their status (githubFacts.ts). */
  conditionHolds(job: JobDefinition, given: GivenContexts, status: JobStatus): boolean;
  /** The contexts of a caller's `if:`, `with:` and `secrets:` (github, and what is given). */
  callerContext(caller: string, given: GivenContexts, status: JobStatus): ExpressionContext;
  /** The launch's secrets, for `secrets: inherit`. */
  secrets?: Readonly<Record<string, string>>;
}

/** A call as the run has it once it started: what its jobs get, or that it was skipped. */
type CallState =
  { skipped: true } | { skipped: false; inputs: Record<string, unknown>; secrets: Record<string, string> };

/** Where a job's needs are found: a called workflow's jobs under `<caller>/`. */
function prefixOf(job: JobDefinition): string {
  const call = callOf(job);
  return call === undefined ? '' : `${call.caller}/`;
}

/** A job's key in the run: its key under `jobs:`, under `<caller>/` for a called workflow's job. */
function keyOf(job: JobDefinition): string | undefined {
  const id = job.workflow?.jobId;
  return id === undefined ? undefined : `${prefixOf(job)}${id}`;
}

export class WorkflowRun extends EventEmitter<WorkflowRunEvents> {
  private readonly threadList: JobThread[] = [];
  /** Results and outputs of the jobs so far, by key (a matrix job's combinations together). */
  private readonly finished = new Map<string, { results: JobResult[]; outputs: Record<string, string> }>();
  private readonly calls = new Map<string, CallState>();
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
      const label = this.multiJob ? `job ${index + 1}/${jobs.length} '${job.name}'` : `job '${job.name}'`;
      const call = callOf(job);
      const callState = call === undefined ? undefined : this.startCall(call);
      if (callState?.skipped === true) {
        this.record(key, 'skipped', {});
        this.endCall(call, index);
        continue;
      }
      const given: GivenContexts = {
        needs: this.needsOf(job.workflow?.needs ?? [], prefixOf(job)),
        ...(callState === undefined ? {} : { inputs: callState.inputs, secrets: callState.secrets }),
      };
      let holds: boolean;
      try {
        holds = this.options.conditionHolds(
          job,
          given,
          this.statusFor(job.workflow?.needs ?? [], prefixOf(job)),
        );
      } catch (error) {
        this.emit('message', `${label}: its if: cannot be decided: ${(error as Error).message}`);
        this.record(key, 'failure', {});
        firstFailure ??= 1;
        this.endCall(call, index);
        continue;
      }
      if (!holds) {
        this.emit('message', `${label} was skipped: ${this.skipReason(job, given.needs ?? {})}`);
        this.record(key, 'skipped', {});
        this.endCall(call, index);
        continue;
      }
      if (this.multiJob) this.emit('message', `${label} starts`);
      const runner = this.options.makeRunner(job, given, this.threadList.length === 0);
      const ending = { reason: 'failed' as 'finished' | 'failed' | 'cancelled' };
      runner.once('ended', (ended) => (ending.reason = ended.reason));
      this.threadList.push({ id: this.threadList.length + 1, runner });
      this.emit('jobStarted', this.current!);
      // A cancel that came while the runner was being made reaches it now.
      if (this.cancelReason !== undefined) void runner.cancel(this.cancelReason);
      const exitCode = await runner.start();
      let result: JobResult =
        ending.reason === 'finished' ? 'success' : ending.reason === 'cancelled' ? 'cancelled' : 'failure';
      if (this.multiJob) this.emit('message', `${label}: ${result} (exit ${exitCode})`);
      if (result === 'failure' && this.tolerates(runner, label)) {
        // GitHub: the run does not fail, and the jobs that need it see `success`.
        this.emit(
          'message',
          `${label} failed (exit ${exitCode}), tolerated by its continue-on-error: the run goes on as if it succeeded`,
        );
        result = 'success';
      }
      this.record(key, result, this.outputsOf(runner, label));
      if (result === 'failure') firstFailure ??= exitCode;
      if (result === 'cancelled') this.cancelReason ??= 'a job was cancelled';
      this.endCall(call, index);
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

  /** `needs.<job>`: the direct needs, each with outputs and one result for all its combinations. */
  private needsOf(keys: readonly string[], prefix: string): Record<string, NeedContext> {
    const needs: Record<string, NeedContext> = {};
    for (const key of keys) {
      const known = this.finished.get(`${prefix}${key}`);
      if (known === undefined) continue;
      needs[key] = { outputs: { ...known.outputs }, result: combined(known.results) };
    }
    return needs;
  }

  /**
   * What the status functions say in a job-level `if:`: `failure()` when a job it needs, or one
   * those need, failed; `success()` when every job it needs succeeded; else (one was skipped)
   * neither.
   */
  private statusFor(needs: readonly string[], prefix: string): JobStatus {
    if (this.cancelReason !== undefined) return 'cancelled';
    if (this.ancestors(needs, prefix).some((key) => this.finished.get(key)?.results.includes('failure')))
      return 'failure';
    const allSucceeded = needs.every((key) => {
      const known = this.finished.get(`${prefix}${key}`);
      return known === undefined || combined(known.results) === 'success';
    });
    return allSucceeded ? 'success' : 'skipped';
  }

  /** The keys of the jobs `needs` names and of those they need, transitively. */
  private ancestors(needs: readonly string[], prefix: string): string[] {
    const found = new Set<string>();
    const byKey = new Map(this.options.jobs.map((each) => [keyOf(each), each]));
    const callers = new Map(this.options.jobs.map((each) => [callOf(each)?.caller, callOf(each)]));
    const visit = (keys: readonly string[], within: string): void => {
      for (const key of keys.map((each) => `${within}${each}`)) {
        if (found.has(key)) continue;
        found.add(key);
        const job = byKey.get(key);
        visit(job?.workflow?.needs ?? callers.get(key)?.needs ?? [], job === undefined ? '' : prefixOf(job));
      }
    };
    visit(needs, prefix);
    return [...found];
  }

  /**
   * The call of a called workflow's job, started once, before its first job: the caller's `if:`
   * (with the caller's needs), then `with:` as `inputs` (over the declared defaults, typed as
   * declared) and the secrets it passes (`inherit`: the launch's).
   */
  private startCall(call: WorkflowCall): CallState {
    const known = this.calls.get(call.caller);
    if (known !== undefined) return known;
    const needs = this.needsOf(call.needs, '');
    const status = this.statusFor(call.needs, '');
    const launchSecrets = { ...this.options.secrets };
    const context = this.options.callerContext(call.caller, { needs, secrets: launchSecrets }, status);
    const label = `job '${call.callerName}'`;
    let state: CallState;
    try {
      const holds =
        call.condition === undefined
          ? status === 'success'
          : evaluateLocatedCondition(call.condition.located, context);
      if (!holds) {
        const why =
          call.condition === undefined
            ? `a job it needs did not succeed`
            : `its if: ${call.condition.text} (line ${call.condition.line}) is false`;
        this.emit('message', `${label} (calls ${call.uses}) was skipped: ${why}`);
        state = { skipped: true };
      } else {
        const inputs: Record<string, unknown> = {};
        for (const [name, spec] of Object.entries(call.inputs))
          if (spec.default !== undefined) inputs[name] = typed(spec.default, spec.type);
        for (const [name, template] of Object.entries(call.with))
          inputs[name] = typed(evaluateTemplateValue(template, context), call.inputs[name]?.type);
        const secrets: Record<string, string> = {};
        if (call.secrets === 'inherit') Object.assign(secrets, launchSecrets);
        else
          for (const [name, template] of Object.entries(call.secrets))
            secrets[name] = evaluateTemplate(template, context);
        this.emit(
          'message',
          `${label} calls ${call.uses}: its jobs run here, with the inputs and secrets it passes`,
        );
        state = { skipped: false, inputs, secrets };
      }
    } catch (error) {
      this.emit('message', `${label} (calls ${call.uses}) cannot start: ${(error as Error).message}`);
      state = { skipped: true };
    }
    this.calls.set(call.caller, state);
    return state;
  }

  /**
   * After the last job of a call: the caller's result (as a matrix job's, over the called jobs)
   * and its outputs, from `on.workflow_call.outputs` reading `jobs.<id>`, for the jobs that
   * need the caller.
   */
  private endCall(call: WorkflowCall | undefined, index: number): void {
    if (call === undefined) return;
    if (this.options.jobs.slice(index + 1).some((job) => callOf(job)?.caller === call.caller)) return;
    const state = this.calls.get(call.caller);
    const prefix = `${call.caller}/`;
    const jobs: Record<string, NeedContext> = {};
    for (const [key, known] of this.finished) {
      if (key.startsWith(prefix))
        jobs[key.slice(prefix.length)] = { outputs: { ...known.outputs }, result: combined(known.results) };
    }
    const results = Object.values(jobs).map((job) => job.result);
    const result = state?.skipped === false ? combined(results) : 'skipped';
    const outputs: Record<string, string> = {};
    if (state?.skipped === false) {
      const context = {
        ...this.options.callerContext(call.caller, { inputs: state.inputs }, 'success'),
        jobs,
      };
      for (const [name, template] of Object.entries(call.outputs)) {
        try {
          outputs[name] = evaluateTemplate(template, context);
        } catch (error) {
          this.emit(
            'message',
            `job '${call.callerName}': output ${name} is empty: ${(error as Error).message}`,
          );
          outputs[name] = '';
        }
      }
      this.emit('message', `job '${call.callerName}' (calls ${call.uses}): ${result}`);
    }
    this.record(call.caller, result, outputs);
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

  /**
   * Whether the job's `continue-on-error:` holds for the combination that ran, read with the
   * job's contexts (`matrix`, `needs`, `github`, `vars`, `inputs`); one that cannot be evaluated
   * does not tolerate the failure, and is said.
   */
  private tolerates(runner: JobRunner, label: string): boolean {
    const written = asWorkflowJob(runner.job)?.continueOnError;
    if (written === undefined || typeof written === 'boolean') return written === true;
    try {
      return isTruthy(evaluateTemplateValue(written, runner.expressionContext()));
    } catch (error) {
      this.emit(
        'message',
        `${label}: its continue-on-error cannot be decided, so its failure counts: ${(error as Error).message}`,
      );
      return false;
    }
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

/** An input's value as its declared type gives it (`type: boolean` with "true" is true). */
function typed(value: unknown, type: string | undefined): unknown {
  if (typeof value !== 'string') return value;
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  if (type === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/** One result for a job's combinations: any failure fails it, then any cancel; all skipped is skipped. */
function combined(results: readonly JobResult[]): JobResult {
  if (results.includes('failure')) return 'failure';
  if (results.includes('cancelled')) return 'cancelled';
  if (results.length > 0 && results.every((result) => result === 'skipped')) return 'skipped';
  return 'success';
}

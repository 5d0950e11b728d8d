/**
 * Runs a job step by step through the relay: the cancellable pause before a step, the
 * step's relayed command with its output streamed to a sink, results, console commands,
 * and cancellation that always ends the job. Knows nothing of DAP; the debug session
 * translates its events and calls its methods.
 *
 * Concurrency: one loop (`run`) owns the step sequence; it waits either in the pause gate or
 * on a step's relay command. Everything else (continue, pause, cancel, console commands)
 * arrives from the session at any time and only sets state, releases the gate or aborts a
 * command — it never runs a step itself.
 */
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { ChannelRequest } from '../relay/channel.js';
import type { RelayChannel, RelayClient } from '../relay/client.js';

/** A process beside the job with its stdio as a stream (`!debug`'s debugpy). */
import { isRelayError } from '../relay/errors.js';
import { EXIT_CANCELLED, EXIT_CANNOT_EXECUTE, EXIT_RELAY_LOST } from '../relay/results.js';
import { longTimeout, type LongTimeout } from '../time/longTimeout.js';
import {
  expressionContext,
  stepContext,
  type ExpressionContext,
  type StepContext,
} from '../model/expressionContext.js';
import type { JobDefinition, JobStep } from '../model/jobModel.js';
import { blocks, type JobStatus, type StepResult, type StopReason } from '../model/stepResult.js';
import { ActionNesting } from './actionNesting.js';
import { PauseGate, type ResumeAction } from './pauseGate.js';
import { addPathEntries } from '../workflow/envFiles.js';
import { withDefaultVariables } from '../workflow/githubContext.js';
import { PythonStepDebugging, type DebugExports, type DebuggedProcess } from './pythonStepDebugging.js';
import { directoryUnder, stepDirectory, withContext, type CommandContext } from './stepCommand.js';

/** The exit code of a cancelled job (as of a cancelled relay command). */
export { EXIT_CANCELLED };
/** The exit code of a step cancelled by its own timeout (as `timeout(1)` and `relay-dap run`). */
export const EXIT_STEP_TIMEOUT = 124;
const OUTPUT_TAIL_BYTES = 4096;

export type JobState = 'ready' | 'running' | 'paused' | 'ended';

export interface PauseRequest {
  reason: StopReason;
  description: string;
  /** For breakpoints: which ones (ids as the session gave them). */
  hitBreakpointIds?: number[];
}

/** Decides where the job pauses (issue: breakpoints, exception filters). */
export interface PausePolicy {
  beforeStep?(index: number, runner: JobRunner): PauseRequest | undefined;
  afterStep?(result: StepResult, runner: JobRunner): PauseRequest | undefined;
}

/** Turns a step into relayed shell text, and digests what it left behind. */
export interface StepPreparer {
  /**
   * true: a failed step does not end the job; each later step decides for itself whether it
   * runs (a workflow's `if:`). false: the job ends at the first failure.
   */
  readonly runsAfterFailure?: boolean;
  /** Whether a failure of `step` is tolerated (continue-on-error); default: `step.continueOnError === true`. */
  tolerates?(step: JobStep, runner: JobRunner): boolean;
  /**
   * The contexts breakpoint conditions and log points see (default: env and step outcomes);
   * `stepIndex`: where they stand, when that matters (a step inside an action sees its inputs).
   */
  expressionContext?(runner: JobRunner, stepIndex?: number): ExpressionContext;
  /**
   * Called once before the first step (and its entry pause): what to ask the far side up front
   * (a workflow's `github` and `runner` contexts); a throw ends the job, its message said.
   */
  begin?(runner: JobRunner): Promise<void>;
  /** Called once when the job ends, to remove what the job left on the far side. */
  cleanup?(runner: JobRunner): Promise<void>;
  /** The job went back to step `index` (goto, restart): forget what steps from there on left. */
  rewind?(index: number): void;
  /**
   * `skip` with a reason, the text to run (and its timeout, when the step's is computed as it
   * starts), (attach) the id of a command already running to follow, or `enter`: the step's
   * work is the steps nested in it (a composite action), and it ends, with their outcome, after
   * the last of them.
   */
  prepare(
    step: JobStep,
    runner: JobRunner,
  ): Promise<
    | { skip: string }
    | { text: string; timeoutSeconds?: number }
    | { follow: string }
    | { enter: true }
    // Its work was done beside the queue (a background step started, a `wait:` met): a success.
    | { done: string }
  >;
  finish?(step: JobStep, result: StepResult, runner: JobRunner): Promise<void>;
}

export type OutputOrigin = { kind: 'step'; index: number } | { kind: 'console'; id: number };
/** Where output goes; may return a promise to slow the reader down (backpressure). */
export type OutputSink = (chunk: Buffer, origin: OutputOrigin) => void | Promise<void>;

export interface JobRunnerOptions {
  job: JobDefinition;
  relay: RelayClient;
  /** The job's working directory on the server's side. */
  cwd?: string;
  /** The launch's env; the job's own env goes on top. */
  env?: Record<string, string>;
  stopOnEntry: boolean;
  noDebug: boolean;
  /** Seconds for the whole job, then it is cancelled. */
  timeoutSeconds?: number;
  /** Hold a relay lease on each command, so that the server cancels it if this process dies. */
  lease?: boolean;
  output: OutputSink;
  pausePolicy?: PausePolicy;
  preparer?: StepPreparer;
}

export interface JobRunnerEvents {
  stopped: [PauseRequest & { stepIndex: number }];
  continued: [];
  stepStarted: [{ index: number; step: JobStep }];
  stepEnded: [StepResult];
  /** A step's or console command's output has ended (a decoder holding a partial character can flush). */
  outputEnded: [OutputOrigin];
  /** Messages of the runner itself (not of a command), for the console. */
  message: [string];
  /** A Python process of a step under the Python debugger waits for its child session. */
  debuggedProcess: [DebuggedProcess];
  ended: [{ exitCode: number; reason: 'finished' | 'failed' | 'cancelled' }];
}

export const plainStepPreparer: StepPreparer = {
  prepare(step, runner) {
    if (step.run === undefined)
      return Promise.resolve({ skip: `\`uses: ${step.uses ?? '?'}\` steps are not run` });
    return Promise.resolve({ text: withContext(step.run, runner.contextFor(step)) });
  },
};

export class JobRunner extends EventEmitter<JobRunnerEvents> {
  readonly job: JobDefinition;
  readonly results: (StepResult | undefined)[];
  /** The environment steps and console commands get on top of the server's (launch env, job env, edits). */
  readonly env: Record<string, string>;
  /** A workflow's default variables (GITHUB_*, RUNNER_*, CI), under and over `env` by GitHub's rule. */
  private defaultVariables: Record<string, string> = {};
  /** The preparer's `begin`: a console command waits for it, to get the default variables too. */
  private started: Promise<void> | undefined;
  /** Directories steps added to PATH (a workflow's GITHUB_PATH), oldest first. */
  private pathEntries: string[] = [];
  private readonly gate = new PauseGate();
  private readonly startedAt = performance.now();
  private stateValue: JobState = 'ready';
  private positionValue = 0;
  private stepping = false;
  /** While stepping: the deepest step that pauses (Step Over: the current depth; Into: any). */
  private stepDepth = Infinity;
  /** The composite actions the job is inside. */
  private readonly nesting: ActionNesting;
  private pauseRequested = false;
  private cancelReason: string | undefined;
  private stepAbort: AbortController | undefined;
  /** Console commands running or queued: how to cancel each, and when it has ended. */
  private readonly consoleCommands = new Map<AbortController, Promise<void>>();
  private endedPromise: Promise<number> | undefined;
  private jobTimer: LongTimeout | undefined;
  private nextConsoleId = 1;
  private runningStep: number | undefined;
  private pausedAfter: number | undefined;
  /** Cancelled by the job's timeout in a workflow: finishing the always()/cancelled() steps. */
  private winding = false;
  /** A stop asked for by goto/restart, taken before the step it repositioned to. */
  private pendingStop: PauseRequest | undefined;
  /** While a step under the Python debugger is prepared: what its command gets (pythonStepDebugging.ts). */
  private debugExports: DebugExports | undefined;
  /** Steps under the Python debugger not yet closed, and the closing of those that ended. */
  private readonly pythonSteps = new Set<PythonStepDebugging>();
  private readonly pythonClosing = new Set<Promise<void>>();

  constructor(private readonly options: JobRunnerOptions) {
    super();
    this.job = options.job;
    this.results = new Array<StepResult | undefined>(options.job.steps.length).fill(undefined);
    this.env = { ...options.env, ...options.job.env };
    this.nesting = new ActionNesting(options.job.steps);
  }

  /** The composite actions' `uses:` steps the job is inside now, innermost first. */
  get openActionSteps(): number[] {
    return this.nesting.openSteps;
  }

  get state(): JobState {
    return this.stateValue;
  }

  /** The step about to run (paused) or running; steps.length once past the last. */
  get position(): number {
    return this.positionValue;
  }

  get runningStepIndex(): number | undefined {
    return this.runningStep;
  }

  /** While paused after a step (it failed or was cancelled): that step. */
  get pausedAfterIndex(): number | undefined {
    return this.pausedAfter;
  }

  /** The job's status so far, as a workflow's status functions see it. */
  get status(): JobStatus {
    if (this.cancelled) return 'cancelled';
    return this.results.some((result) => result && blocks(result)) ? 'failure' : 'success';
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** The job's own directory: a job file's `cwd`, relative to the launch's. */
  get jobDirectory(): string | undefined {
    return stepDirectory(this.options.cwd, this.job.cwd);
  }

  /**
   * Where a step (or, with none, a console command) runs, relative to the launch's `cwd`; see
   * directoryUnder. A child debug session maps its files from there to the editor's side.
   */
  directoryFromLaunch(step?: { cwd?: string }): string | undefined {
    return directoryUnder(this.options.cwd, stepDirectory(this.jobDirectory, step?.cwd));
  }

  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  get relayDir(): string {
    return this.options.relay.layout.root;
  }

  /**
   * Where and with what a command runs: the one place a command's directory and environment
   * are put together, for a step (its own cwd and env on top of the job's) and for a console
   * command (no step: the job's own), so that a `!CMD` sees exactly what the next step would.
   */
  contextFor(step?: {
    cwd?: string;
    env?: Readonly<Record<string, string>>;
    /** The step's own default variables (GITHUB_ACTION), over the job's. */
    defaults?: Readonly<Record<string, string>>;
  }): CommandContext {
    const cwd = stepDirectory(this.jobDirectory, step?.cwd);
    // Only the text of the step being prepared (a step is always given): not `!CMD`s meanwhile.
    const debug = step !== undefined ? this.debugExports : undefined;
    return {
      ...(cwd !== undefined ? { cwd } : {}),
      env: withDefaultVariables(
        { ...this.env, ...step?.env, ...debug?.env },
        { ...this.defaultVariables, ...step?.defaults },
      ),
      // The directory added last is searched first, as on GitHub's runner.
      pathPrepend: [...this.pathEntries].reverse(),
      ...(debug ? { pythonPathPrepend: debug.pythonPathPrepend } : {}),
    };
  }

  /** Begin; resolves with the job's exit code when it has ended. */
  start(): Promise<number> {
    if (this.endedPromise) return this.endedPromise;
    if (this.options.timeoutSeconds !== undefined) {
      this.jobTimer = longTimeout(
        () => this.windDown(`the job timed out after ${this.options.timeoutSeconds} s`),
        this.options.timeoutSeconds * 1000,
      );
    }
    this.endedPromise = this.run().catch((error: unknown) => {
      this.emit('message', `internal error: ${(error as Error).stack ?? String(error)}`);
      return this.end(EXIT_RELAY_LOST, 'failed');
    });
    return this.endedPromise;
  }

  continue(): boolean {
    this.stepping = false;
    return this.gate.resume({ kind: 'continue' });
  }

  /** Run the step about to run (an action's steps with it), then pause before the next. */
  next(): boolean {
    return this.stepTo(this.nesting.depthOf(this.positionValue));
  }

  /** As next, but pause at the first step inside the action the step about to run uses. */
  stepIn(): boolean {
    return this.stepTo(Infinity);
  }

  /** Run the rest of the action the job is inside, then pause after it (at the top, as next). */
  stepOut(): boolean {
    return this.stepTo(Math.max(this.nesting.depthOf(this.positionValue) - 1, 0));
  }

  private stepTo(depth: number): boolean {
    this.stepping = true;
    this.stepDepth = depth;
    return this.gate.resume({ kind: 'next' });
  }

  /** Pause at the next step boundary (now, if already paused). */
  pause(): void {
    if (this.stateValue !== 'paused') this.pauseRequested = true;
  }

  /** From a pause: move to step `stepIndex` (skipping those between) and pause before it. */
  goto(stepIndex: number, reason: 'goto' | 'restart' = 'goto'): boolean {
    if (stepIndex < 0 || stepIndex >= this.job.steps.length) return false;
    return this.gate.resume({ kind: 'goto', stepIndex, reason });
  }

  /** Cancel only the running step (its progress was cancelled): it ends as cancelled. */
  cancelStep(): boolean {
    if (!this.stepAbort) return false;
    this.stepAbort.abort();
    return true;
  }

  /**
   * Cancel the job: release the pause, cancel the running step and every console command
   * through the relay. Resolves when the job has ended, which is after the step and the
   * console commands it cancelled have ended (their last output included).
   */
  cancel(reason: string): Promise<number> {
    if (this.stateValue === 'ended') return this.endedPromise ?? Promise.resolve(EXIT_CANCELLED);
    if (this.cancelReason === undefined || this.winding) {
      this.winding = false;
      this.cancelReason = reason;
      this.emit('message', `cancelling: ${reason}`);
    }
    this.gate.cancel();
    this.stepAbort?.abort();
    this.consoleCommands.forEach((_ended, controller) => controller.abort());
    for (const debugging of this.pythonSteps) this.pythonClosing.add(debugging.cancel());
    return this.start();
  }

  /**
   * The job's own timeout in a workflow, as the hosted runner handles it: the running step is
   * cancelled, and the steps left run only if their `if:` asks for it (always(), cancelled()),
   * without pausing. Anywhere else, and for a second cancel, the job ends at once.
   */
  private windDown(reason: string): void {
    if (!(this.options.preparer?.runsAfterFailure ?? false) || this.cancelReason !== undefined) {
      void this.cancel(reason);
      return;
    }
    this.cancelReason = reason;
    this.winding = true;
    this.emit('message', `cancelling: ${reason}; steps with always() or cancelled() still run`);
    this.stepAbort?.abort();
    this.gate.resume({ kind: 'continue' });
  }

  /** The default variables every step and console command gets from now on (a workflow's). */
  setDefaultVariables(variables: Readonly<Record<string, string>>): void {
    this.defaultVariables = { ...variables };
  }

  setEnv(name: string, value: string): void {
    this.env[name] = value;
  }

  /** Put directories in front of PATH for the steps and console commands that follow (GITHUB_PATH). */
  addPath(directories: readonly string[]): void {
    this.pathEntries = addPathEntries(this.pathEntries, directories);
  }

  /** The contexts of conditions and log points: the preparer's, or env and step outcomes. */
  expressionContext(stepIndex?: number): ExpressionContext {
    const own = this.options.preparer?.expressionContext?.(this, stepIndex);
    if (own) return own;
    const steps = new Map<number, StepContext>();
    this.results.forEach((result, index) => {
      if (result) steps.set(index, stepContext(result));
    });
    return expressionContext(this.job, this.env, this.status, steps);
  }

  /**
   * Run `text` through the relay for the job's own bookkeeping (reading a step's GITHUB_ENV,
   * say): its output is returned, not shown. Runs even after a cancel, for cleanup.
   */
  async captureCommand(text: string): Promise<{ exitCode: number; output: Buffer }> {
    const command = this.options.relay.submit(text);
    const chunks: Buffer[] = [];
    for await (const chunk of command.output as AsyncIterable<Buffer>) chunks.push(chunk);
    const outcome = await command.exit;
    return { exitCode: outcome.exitCode, output: Buffer.concat(chunks) };
  }

  private async run(): Promise<number> {
    const steps = this.job.steps;
    const preparer = this.options.preparer ?? plainStepPreparer;
    let first = true;
    this.stateValue = 'running';
    try {
      this.started = preparer.begin?.(this);
      await this.started;
    } catch (error) {
      this.emit('message', `before the first step: ${(error as Error).message}`);
      await preparer.cleanup?.(this).catch(() => undefined);
      return this.end(EXIT_RELAY_LOST, 'failed');
    }
    while (this.positionValue < steps.length && (!this.cancelled || this.winding)) {
      const index = this.positionValue;
      await this.closeActions(index, false);
      const before = this.winding ? undefined : this.pauseBefore(index, first);
      first = false;
      if (before && !(await this.pauseAndFollow(before, index))) continue;
      if (this.cancelled && !this.winding) break;
      const result = await this.runStep(index);
      if (result === 'entered' || this.winding) {
        this.positionValue = result === 'entered' ? index + 1 : this.nesting.after(index);
        continue;
      }
      if (this.cancelled) break;
      const after = this.options.noDebug ? undefined : this.options.pausePolicy?.afterStep?.(result, this);
      if (after) {
        this.pausedAfter = index;
        const go = await this.pauseAndFollow(after, index);
        this.pausedAfter = undefined;
        if (!go) continue;
      }
      if (blocks(result) && !preparer.runsAfterFailure) break;
      this.positionValue = this.nesting.after(index);
    }
    await this.closeActions(this.positionValue, true);
    if (this.cancelled) await this.consoleCommandsEnded();
    // Every debugged step's hub and adapters have ended before the relay may be released.
    await Promise.all(this.pythonClosing);
    await preparer.cleanup?.(this).catch((error: unknown) => {
      this.emit('message', `cleanup after the job failed: ${(error as Error).message}`);
    });
    if (this.cancelled) return this.end(EXIT_CANCELLED, 'cancelled');
    // The job's code: the first step (in job order) whose latest run failed.
    const failure = this.results.find((result) => result && blocks(result));
    if (failure) return this.end(failure.exitCode ?? EXIT_RELAY_LOST, 'failed');
    return this.end(0, 'finished');
  }

  /**
   * Pause; true if the loop goes on from where it is, false if the position changed (goto,
   * restart) or the job was cancelled — the loop then starts over from the new position.
   */
  private async pauseAndFollow(pause: PauseRequest, index: number): Promise<boolean> {
    const action = await this.waitInPause(pause, index);
    if (action.kind === 'cancel') return false;
    if (action.kind === 'goto') {
      this.positionValue = action.stepIndex;
      // Going back re-runs steps: what they (and those after them) did no longer counts.
      for (let i = action.stepIndex; i < this.results.length; i++) this.results[i] = undefined;
      this.nesting.moveTo(action.stepIndex);
      this.options.preparer?.rewind?.(action.stepIndex);
      this.pendingStop = {
        reason: action.reason,
        description:
          action.reason === 'restart'
            ? `Ready to run ${this.job.steps[action.stepIndex]!.name} again`
            : `Moved to ${this.job.steps[action.stepIndex]!.name}`,
      };
      return false;
    }
    return true;
  }

  private pauseBefore(index: number, first: boolean): PauseRequest | undefined {
    if (this.pendingStop) {
      const stop = this.pendingStop;
      this.pendingStop = undefined;
      return stop;
    }
    if (this.options.noDebug) return undefined;
    // The policy is asked even when the job pauses here anyway (entry, pause), so that a log
    // point there logs and a breakpoint's hit counts; a breakpoint that holds names the stop,
    // as js-debug reports a breakpoint on the entry line: one stop, the breakpoint's.
    const policy = this.options.pausePolicy?.beforeStep?.(index, this);
    if (policy) return policy;
    if (first && this.options.stopOnEntry)
      return { reason: 'entry', description: 'Paused before the first step' };
    if (this.pauseRequested) {
      this.pauseRequested = false;
      return { reason: 'pause', description: 'Paused between steps' };
    }
    if (this.stepping && this.nesting.depthOf(index) <= this.stepDepth)
      return { reason: 'step', description: 'Paused before the next step' };
    return undefined;
  }

  private async waitInPause(pause: PauseRequest, index: number): Promise<ResumeAction> {
    this.stateValue = 'paused';
    this.pauseRequested = false;
    this.emit('stopped', { ...pause, stepIndex: index });
    const action = await this.gate.wait();
    if (action.kind === 'cancel') return action;
    this.stateValue = 'running';
    this.emit('continued');
    return action;
  }

  /**
   * Actions whose steps have all run (before `position`) end, innermost first, with their
   * steps' outcome; `all`: the job ends, and every action still open ends with it.
   */
  private async closeActions(position: number, all: boolean): Promise<void> {
    for (const result of this.nesting.closeBefore(position, this.results, all)) {
      const step = this.job.steps[result.index]!;
      if (result.outcome === 'failure' && this.tolerates(step)) {
        // continue-on-error on the `uses:` step: the failures inside no longer fail the job.
        result.tolerated = true;
        for (let inside = result.index + 1; inside <= (step.lastNested ?? result.index); inside++) {
          const failed = this.results[inside];
          if (failed?.outcome === 'failure') failed.tolerated = true;
        }
      }
      this.results[result.index] = result;
      await this.options.preparer?.finish?.(step, result, this).catch((error: unknown) => {
        this.emit('message', `step ${result.index + 1} (${step.name}): ${(error as Error).message}`);
      });
      this.emit('stepEnded', result);
    }
  }

  private async runStep(index: number): Promise<StepResult | 'entered'> {
    const step = this.job.steps[index]!;
    const began = performance.now();
    const preparer = this.options.preparer ?? plainStepPreparer;
    this.runningStep = index;
    this.emit('stepStarted', { index, step });
    let result: StepResult;
    let preparing = true;
    let debugging: PythonStepDebugging | undefined;
    try {
      debugging = await this.debugPython(step);
      this.debugExports = debugging?.exports;
      const prepared = await preparer.prepare(step, this);
      this.debugExports = undefined;
      preparing = false;
      if ('enter' in prepared) {
        this.nesting.enter(index);
        this.runningStep = undefined;
        return 'entered';
      }
      if ('done' in prepared) {
        result = {
          index,
          outcome: 'success',
          exitCode: null,
          durationMs: performance.now() - began,
          outputTail: '',
          note: prepared.done,
        };
      } else if ('skip' in prepared) {
        result = {
          index,
          outcome: 'skipped',
          exitCode: null,
          durationMs: 0,
          outputTail: '',
          note: prepared.skip,
        };
      } else {
        result = await this.runRelayed(index, step, prepared, began);
      }
      await preparer.finish?.(step, result, this);
    } catch (error) {
      const note = (error as Error).message;
      this.emit('message', `step ${index + 1} (${step.name}): ${note}`);
      // A step whose text could not be made (a `${{ }}` that fails) never ran: 126, the code of
      // a command that cannot be given to bash. 125 says the relay lost a command, which it did not.
      const notRun = preparing && !isRelayError(error);
      result = {
        index,
        outcome: 'failure',
        exitCode: notRun ? EXIT_CANNOT_EXECUTE : EXIT_RELAY_LOST,
        durationMs: performance.now() - began,
        outputTail: '',
        note,
      };
    } finally {
      this.debugExports = undefined;
      if (debugging) this.closePython(debugging);
    }
    this.runningStep = undefined;
    this.results[index] = result;
    this.emit('stepEnded', result);
    return result;
  }

  private async runRelayed(
    index: number,
    step: JobStep,
    what: { text: string; timeoutSeconds?: number } | { follow: string },
    began: number,
  ): Promise<StepResult> {
    const controller = new AbortController();
    this.stepAbort = controller;
    let timedOut = false;
    const timeoutSeconds =
      ('timeoutSeconds' in what ? what.timeoutSeconds : undefined) ?? step.timeoutSeconds;
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : longTimeout(() => {
            timedOut = true;
            this.emit(
              'message',
              `step ${index + 1} (${step.name}) timed out after ${timeoutSeconds} s; cancelling it`,
            );
            controller.abort();
          }, timeoutSeconds * 1000);
    try {
      const command =
        'follow' in what
          ? this.options.relay.follow(what.follow)
          : this.options.relay.submit(what.text, {
              signal: controller.signal,
              lease: this.options.lease ?? false,
            });
      if ('follow' in what)
        controller.signal.addEventListener('abort', () => command.cancel(), { once: true });
      const tail = await this.pipeOutput(command.output, { kind: 'step', index });
      const outcome = await command.exit;
      const durationMs = performance.now() - began;
      if (outcome.resultTakenByOwner) {
        this.emit(
          'message',
          `command ${command.id} ended, but the client that started it read its exit code first (and deleted it): reported as ${outcome.exitCode}`,
        );
      }
      if (timedOut) {
        return {
          index,
          outcome: 'failure',
          exitCode: EXIT_STEP_TIMEOUT,
          durationMs,
          outputTail: tail,
          timedOut: true,
          tolerated: this.tolerates(step),
        };
      }
      if (outcome.cancelled)
        return { index, outcome: 'cancelled', exitCode: outcome.exitCode, durationMs, outputTail: tail };
      const failed = outcome.exitCode !== 0;
      return {
        index,
        outcome: failed ? 'failure' : 'success',
        exitCode: outcome.exitCode,
        durationMs,
        outputTail: tail,
        ...(failed && this.tolerates(step) ? { tolerated: true } : {}),
      };
    } finally {
      timer?.clear();
      this.stepAbort = undefined;
    }
  }

  /** A step marked `debug: python` (and not a noDebug launch): its hub, or undefined when it runs plain. */
  private async debugPython(step: JobStep): Promise<PythonStepDebugging | undefined> {
    if (step.debug !== 'python' || this.options.noDebug || this.cancelled) return undefined;
    const debugging = await PythonStepDebugging.open(step, {
      openChannel: (request) => this.options.relay.openChannel(request),
      say: (line) => this.emit('message', line),
      debug: (process) => this.emit('debuggedProcess', process),
    });
    if (debugging) this.pythonSteps.add(debugging);
    return debugging;
  }

  private closePython(debugging: PythonStepDebugging): void {
    this.pythonSteps.delete(debugging);
    const closing = debugging.close();
    this.pythonClosing.add(closing);
    void closing.finally(() => this.pythonClosing.delete(closing));
  }

  private tolerates(step: JobStep): boolean {
    return this.options.preparer?.tolerates?.(step, this) ?? step.continueOnError === true;
  }

  /** Opens a relay channel (a background step, src/job/backgroundSteps.ts): throws NO_CHANNELS on a Part-A server. */
  openChannel(request: ChannelRequest): Promise<RelayChannel> {
    return this.options.relay.openChannel(request);
  }

  /** Output of background step `index`, as it arrives. */
  backgroundOutput(chunk: Buffer, index: number): void | Promise<void> {
    return this.options.output(chunk, { kind: 'step', index });
  }

  /** A background step ended: its result replaces the one of its start. */
  backgroundEnded(result: StepResult): void {
    this.results[result.index] = result;
    this.emit('outputEnded', { kind: 'step', index: result.index });
    this.emit('stepEnded', result);
  }

  /** Streams a command's (or a channel's) output to the sink; returns its last few kilobytes. */
  private async pipeOutput(output: Readable, origin: OutputOrigin): Promise<string> {
    let tail = Buffer.alloc(0);
    try {
      for await (const chunk of output as AsyncIterable<Buffer>) {
        tail = Buffer.concat([tail, chunk.subarray(-OUTPUT_TAIL_BYTES)]).subarray(-OUTPUT_TAIL_BYTES);
        await this.options.output(chunk, origin);
      }
    } catch (error) {
      // The output ended early (the relay failed); `exit` says why.
      if (!isRelayError(error)) throw error;
    } finally {
      this.emit('outputEnded', origin);
    }
    return tail.toString('utf8');
  }

  /**
   * Run `text` (a console `!CMD`) with the job's environment and directory, streaming its
   * output to the sink. Aborting `signal` cancels it (a queued one is withdrawn).
   */
  async runConsoleCommand(
    text: string,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; cancelled: boolean }> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    if (this.cancelled) controller.abort();
    const running = this.relayConsoleCommand(text, controller.signal);
    const ended = (): void => {
      signal?.removeEventListener('abort', abort);
      this.consoleCommands.delete(controller);
    };
    this.consoleCommands.set(controller, running.then(ended, ended));
    return running;
  }

  private async relayConsoleCommand(
    text: string,
    signal: AbortSignal,
  ): Promise<{ exitCode: number; cancelled: boolean }> {
    // Typed while the job is being prepared: it runs once the default variables are known.
    await this.started?.catch(() => undefined);
    const command = this.options.relay.submit(withContext(text, this.contextFor()), {
      signal,
      lease: this.options.lease ?? false,
    });
    await this.pipeOutput(command.output, { kind: 'console', id: this.nextConsoleId++ });
    const outcome = await command.exit;
    return { exitCode: outcome.exitCode, cancelled: outcome.cancelled };
  }

  /** Why the relay server opens no channels (a Part-A shell server), or undefined if it does. */
  channelsRefusal(): string | undefined {
    return this.options.relay.channelsRefusal()?.message;
  }

  /**
   * Runs `text` (a `!debug` program) as a `!CMD` runs, with `debug` (its hub) on top of the job's
   * context, beside the queue on a channel: a `!CMD` typed while the program is stopped at a
   * breakpoint runs meanwhile. Its output streams to the console as a `!CMD`'s; aborting
   * `signal`, or cancelling the job, stops its whole process tree. Throws NO_CHANNELS on a
   * Part-A server.
   */
  async runConsoleProgram(
    text: string,
    debug: DebugExports,
    signal: AbortSignal,
  ): Promise<{ exitCode: number; cancelled: boolean }> {
    await this.started?.catch(() => undefined);
    const context = this.contextFor();
    const channel = await this.options.relay.openChannel({
      text: withContext(text, {
        ...context,
        env: { ...context.env, ...debug.env },
        pythonPathPrepend: debug.pythonPathPrepend,
      }),
      stderr: 'stdout',
    });
    // As a command's: no input.
    channel.end();
    const controller = new AbortController();
    const cancel = (): void => channel.cancel();
    controller.signal.addEventListener('abort', cancel, { once: true });
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    if (this.cancelled || signal.aborted) controller.abort();
    const running = (async () => {
      await this.pipeOutput(channel, { kind: 'console', id: this.nextConsoleId++ });
      const exit = await channel.exit;
      return { exitCode: exit.exitCode, cancelled: exit.cancelled };
    })();
    const ended = (): void => {
      signal.removeEventListener('abort', abort);
      this.consoleCommands.delete(controller);
    };
    this.consoleCommands.set(controller, running.then(ended, ended));
    return running;
  }

  /**
   * Waits for the console commands a cancel aborted, as for a cancelled step: the relay ends
   * each within its grace period (SIGTERM, then SIGKILL) or reports it lost, so this is
   * bounded. One typed meanwhile is withdrawn at once, and waited for too.
   */
  private async consoleCommandsEnded(): Promise<void> {
    while (this.consoleCommands.size > 0) await Promise.all(this.consoleCommands.values());
  }

  private end(exitCode: number, reason: 'finished' | 'failed' | 'cancelled'): number {
    this.jobTimer?.clear();
    this.stateValue = 'ended';
    this.runningStep = undefined;
    this.emit('ended', { exitCode, reason });
    return exitCode;
  }
}

/**
 * How a job looks in a debugger: steps as stack frames (the step about to run on top, the
 * finished ones below with their results), scopes and variables (the job, a step, the
 * environment), and the small path language of the watch and hover panes
 * (`exitCode`, `env.PATH`, `steps[0].exitCode`, `steps.build.outcome`).
 *
 * Every text it shows of the job's state (a variable, an evaluation, a hover, a step's last
 * output in Exception Info) is masked first: an env value may hold a secret, and a step's output
 * may hold one or a value it masked with `::add-mask::`.
 */
import { Handles } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import path from 'node:path';
import type { BreakpointState } from '../job/breakpoints.js';
import type { JobRunner } from '../job/jobRunner.js';
import type { JobDefinition, JobStep } from '../model/jobModel.js';
import type { StepResult } from '../model/stepResult.js';
import { ErrorId, RequestError } from './errors.js';

type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

/** Children of an expandable variable, computed when the client asks. */
type Container = { kind: 'environment' } | { kind: 'value'; value: Value } | { kind: 'step'; index: number };

/** The `sourceReference` of a job's read-only listing (a job without a file of its own). */
const JOB_SOURCE_REFERENCE = 1;

/** The source frames point into: the job's file, or its listing (served by `source`). */
export function sourceOf(job: JobDefinition): DebugProtocol.Source {
  if (job.origin === 'attach')
    return { name: 'attached.relay-job.yml', sourceReference: JOB_SOURCE_REFERENCE };
  if (job.sourcePath) return { name: path.basename(job.sourcePath), path: job.sourcePath };
  return {
    name: `${job.name}.relay-job.yml`,
    sourceReference: JOB_SOURCE_REFERENCE,
    origin: 'relay-dap job listing',
  };
}

/** Whether a client's `source` is the job's (its file, or its listing, or an action.yml its steps run). */
export function isJobSource(source: DebugProtocol.Source, job: JobDefinition): boolean {
  if (job.sourcePath !== undefined) {
    if (source.path === undefined) return false;
    const asked = path.resolve(source.path);
    return asked === job.sourcePath || job.steps.some((step) => step.sourcePath === asked);
  }
  return source.sourceReference === JOB_SOURCE_REFERENCE;
}

/** A breakpoint as the client is told of it, at its line in the client's numbering. */
export function breakpointOf(
  state: BreakpointState,
  source: DebugProtocol.Source | undefined,
  toClientLine: (line: number) => number,
): DebugProtocol.Breakpoint {
  return {
    id: state.id,
    verified: state.verified,
    ...(state.line !== undefined ? { line: toClientLine(state.line) } : {}),
    ...(state.message !== undefined ? { message: state.message } : {}),
    ...(source ? { source } : {}),
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function describeResult(result: StepResult): string {
  const code = result.exitCode === null ? '' : `exit ${result.exitCode}, `;
  switch (result.outcome) {
    case 'skipped':
      return `skipped${result.note ? ` (${result.note})` : ''}`;
    case 'cancelled':
      return `cancelled, ${code}${seconds(result.durationMs)}`;
    case 'failure':
      return `${result.timedOut ? 'timed out' : 'failed'}${result.tolerated ? ' (continue-on-error)' : ''}, ${code}${seconds(result.durationMs)}`;
    default:
      // A step whose work runs beside the queue (started in the background, a wait met) says so.
      return result.exitCode === null && result.note ? result.note : `${code}${seconds(result.durationMs)}`;
  }
}

function mark(result: StepResult): string {
  return result.outcome === 'success' ? '✓' : result.outcome === 'skipped' ? '–' : '✗';
}

/** Each thread's frame ids and variable references start here times (thread − 1): they never meet. */
export const THREAD_ID_SPACE = 1_000_000;

export class JobView {
  /** Variable references: valid until the job moves on (DAP lets them expire at `continued`). */
  private containers: Handles<Container>;
  /** The order in which steps finished, most recent last (a step re-run appears once, where it last ran). */
  private finishedOrder: number[] = [];

  constructor(
    private readonly runner: JobRunner,
    private readonly source: DebugProtocol.Source,
    private readonly line: (line: number) => number,
    /** The job's secrets and `::add-mask::` values become `***` (SecretMasker.mask). */
    private readonly mask: (text: string) => string,
    /** Where this job's frame ids and variable references start (0 for the first thread). */
    private readonly idBase = 0,
  ) {
    this.containers = this.freshHandles();
    runner.on('stepEnded', (result) => {
      this.finishedOrder = this.finishedOrder.filter((index) => index !== result.index);
      this.finishedOrder.push(result.index);
    });
    runner.on('continued', () => (this.containers = this.freshHandles()));
  }

  private freshHandles(): Handles<Container> {
    return new Handles<Container>(this.idBase + 1000);
  }

  /** The console line before a step's output (a step inside an action after the action's name). */
  stepStartedLine(index: number): string {
    return `▶ step ${index + 1}/${this.runner.job.steps.length}: ${this.nestedName(index)}`;
  }

  /** `Set up thing › Install thing` for a step of the action that `Set up thing` runs. */
  private nestedName(index: number): string {
    const steps = this.runner.job.steps;
    const names = [steps[index]!.name];
    for (let parent = steps[index]!.parent; parent !== undefined; parent = steps[parent]!.parent)
      names.unshift(steps[parent]!.name);
    return names.join(' › ');
  }

  /** The title of a step's progress bar. */
  stepProgressTitle(index: number): string {
    return `step ${index + 1}/${this.runner.job.steps.length}: ${this.runner.job.steps[index]!.name}`;
  }

  /** The console line after a step's output: its mark, name and result. */
  stepEndedLine(result: StepResult): string {
    return `${mark(result)} ${this.runner.job.steps[result.index]!.name}: ${describeResult(result)}`;
  }

  /** Exception Info: the step the job is paused after (it failed or was cancelled), and how. */
  exceptionInfo(): DebugProtocol.ExceptionInfoResponse['body'] {
    const index = this.runner.pausedAfterIndex;
    const result = index === undefined ? undefined : this.runner.results[index];
    if (!result || index === undefined) {
      throw new RequestError(
        ErrorId.WrongState,
        'no step failure to describe: the job is not paused after a failed or cancelled step',
      );
    }
    const step = this.runner.job.steps[index]!;
    const cancelled = result.outcome === 'cancelled';
    const what = cancelled
      ? 'was cancelled'
      : result.timedOut
        ? 'timed out'
        : `failed with exit code ${result.exitCode ?? '?'}`;
    const described = this.mask(`${step.name} ${what}`);
    return {
      exceptionId: cancelled ? 'cancelled' : result.timedOut ? 'timed out' : `exit ${result.exitCode ?? '?'}`,
      description: described,
      breakMode: 'always',
      details: {
        message: `${described}. Fix what you need from the console (!CMD), then Restart Frame to run it again, or Continue.`,
        typeName: cancelled ? 'cancelled step' : 'failed step',
        stackTrace: this.mask(result.outputTail.split('\n').slice(-20).join('\n')),
      },
    };
  }

  /** The `source` request: the job's own listing or file, and nothing else. */
  sourceContent(
    reference: number | undefined,
    asked: string | undefined,
  ): DebugProtocol.SourceResponse['body'] {
    const job = this.runner.job;
    if (reference !== JOB_SOURCE_REFERENCE && !(asked && asked === job.sourcePath)) {
      throw new RequestError(
        ErrorId.UnknownReference,
        `no source ${reference ?? asked}: relay-dap serves only the job's own listing`,
      );
    }
    return { content: job.sourceText, mimeType: 'text/yaml' };
  }

  /** Frame ids: 2i+1 for step i about to run or running, 2i+2 for step i finished. */
  stackFrames(): DebugProtocol.StackFrame[] {
    const frames: DebugProtocol.StackFrame[] = [];
    const steps = this.runner.job.steps;
    const after = this.runner.pausedAfterIndex;
    const running = this.runner.runningStepIndex;
    const current = running ?? (this.runner.state === 'paused' ? (after ?? this.runner.position) : undefined);
    if (current !== undefined && current < steps.length) {
      const step = steps[current]!;
      const result = this.runner.results[current];
      // Paused after a step (it failed): that step is on top, with its result, to restart or inspect.
      const name =
        after === current && result
          ? this.stepEndedLine(result)
          : `${running === current ? 'running' : 'next'}: ${step.name}`;
      frames.push(this.frame(this.idBase + 2 * current + 1, name, step));
    }
    // The actions the job is inside: each `uses:` step under the steps it runs.
    const inside = this.runner.openActionSteps;
    for (const index of inside) {
      if (index !== current)
        frames.push(this.frame(2 * index + 1, `running: ${steps[index]!.name}`, steps[index]!));
    }
    for (const index of [...this.finishedOrder].reverse()) {
      if (index === current && (running === current || after === current)) continue;
      if (inside.includes(index)) continue;
      const result = this.runner.results[index];
      if (!result) continue;
      frames.push(this.frame(this.idBase + 2 * index + 2, this.stepEndedLine(result), steps[index]!));
    }
    return frames;
  }

  /**
   * Finished steps are the job's history, shown as plainly as the step on top: `subtle` made
   * VS Code fold runs of them under "Show N More Stack Frames" and hide their Restart Frame.
   */
  private frame(id: number, name: string, step: JobStep): DebugProtocol.StackFrame {
    return {
      id,
      name: this.mask(name),
      // A step of an action points into its action.yml.
      source:
        step.sourcePath === undefined
          ? this.source
          : { name: path.basename(step.sourcePath), path: step.sourcePath },
      line: this.line(step.location.line),
      column: 1,
      presentationHint: 'normal',
    };
  }

  stepOfFrame(frameId: number): number {
    const index = Math.floor((frameId - this.idBase - 1) / 2);
    if (!Number.isInteger(frameId) || frameId - this.idBase < 1 || index >= this.runner.job.steps.length) {
      throw new RequestError(
        ErrorId.UnknownReference,
        `there is no stack frame ${frameId}: ask for the stack trace again`,
      );
    }
    return index;
  }

  scopes(frameId: number): DebugProtocol.Scope[] {
    const index = this.stepOfFrame(frameId);
    return [
      { name: 'Step', variablesReference: this.add({ kind: 'step', index }), expensive: false },
      {
        name: 'Job',
        variablesReference: this.add({ kind: 'value', value: this.jobValue() }),
        expensive: false,
      },
      { name: 'Environment', variablesReference: this.add({ kind: 'environment' }), expensive: false },
    ];
  }

  variables(reference: number): DebugProtocol.Variable[] {
    const container = this.containers.get(reference);
    if (!container) {
      throw new RequestError(
        ErrorId.UnknownReference,
        `variables reference ${reference} is not valid any more: the job moved on`,
      );
    }
    switch (container.kind) {
      case 'environment':
        return Object.entries(this.runner.env)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, value]) => ({
            name,
            value: this.mask(value),
            variablesReference: 0,
            evaluateName: `env.${name}`,
          }));
      case 'step':
        return this.toVariables(this.stepValue(container.index), `steps[${container.index}]`);
      case 'value':
        return this.toVariables(container.value, undefined);
    }
  }

  /** Only environment entries can be set: they change what later steps and console commands get. */
  setVariable(reference: number, name: string, value: string): DebugProtocol.SetVariableResponse['body'] {
    if (this.containers.get(reference)?.kind !== 'environment') {
      throw new RequestError(
        ErrorId.WrongState,
        `only environment variables can be changed (in the Environment scope); ${name} is a result of the job`,
      );
    }
    let text = value;
    if (/^".*"$/s.test(value)) {
      try {
        text = JSON.parse(value) as string;
      } catch {
        // Not a JSON string after all: keep it as typed.
      }
    }
    this.runner.setEnv(name, text);
    return { value: this.mask(text), variablesReference: 0 };
  }

  /** `exitCode`, `env.NAME`, `steps[0].exitCode`, `steps.<id or name>.outcome`, `step.cwd`, `job.state`. */
  evaluate(expression: string, frameId: number | undefined): { result: string; variablesReference: number } {
    const path = parsePath(expression);
    if (!path) throw notAVariable(expression);
    const frameStep = frameId === undefined ? undefined : this.stepOfFrame(frameId);
    let value: Value = this.evaluationRoot(frameStep);
    for (const key of path) {
      value = lookup(value, key);
      if (value === undefined) throw notAVariable(expression);
    }
    return this.describeValue(value);
  }

  private evaluationRoot(frameStep: number | undefined): Record<string, Value> {
    const steps = this.runner.job.steps.map((_, index) => this.stepValue(index));
    const byKey: Record<string, Value> = {};
    this.runner.job.steps.forEach((step, index) => {
      byKey[step.id ?? step.name] = steps[index];
    });
    const last = [...this.finishedOrder].reverse().map((index) => this.runner.results[index])[0];
    const frameResult = frameStep === undefined ? undefined : this.runner.results[frameStep];
    return {
      exitCode: (frameResult ?? last)?.exitCode ?? null,
      env: { ...this.runner.env },
      steps: Object.assign([...steps], byKey),
      step: frameStep === undefined ? undefined : steps[frameStep],
      job: this.jobValue(),
    };
  }

  private jobValue(): { [key: string]: Value } {
    const results = this.runner.results;
    return {
      name: this.runner.job.name,
      origin: this.runner.job.origin,
      state: this.runner.state,
      elapsed: seconds(this.runner.elapsedMs),
      relayDir: this.runner.relayDir,
      source: this.runner.job.sourcePath ?? this.source.name,
      steps: this.runner.job.steps.map((_, index) => this.stepValue(index)),
      finished: results.filter(Boolean).length,
    };
  }

  private stepValue(index: number): { [key: string]: Value } {
    const step = this.runner.job.steps[index]!;
    const result = this.runner.results[index];
    const context = this.runner.contextFor(step);
    const status =
      this.runner.runningStepIndex === index
        ? 'running'
        : result
          ? result.outcome
          : this.runner.state === 'paused' && this.runner.position === index
            ? 'next'
            : 'not run';
    return {
      name: step.name,
      ...(step.id !== undefined ? { id: step.id } : {}),
      index,
      status,
      outcome: result?.outcome ?? null,
      exitCode: result?.exitCode ?? null,
      duration: result ? seconds(result.durationMs) : null,
      command: step.run ?? `uses: ${step.uses ?? '?'}`,
      cwd: context.cwd ?? "(the relay server's workdir)",
      env: step.env,
      line: step.location.line,
      ...(result?.note ? { note: result.note } : {}),
      ...(result?.outputTail ? { lastOutput: result.outputTail } : {}),
    };
  }

  private toVariables(value: Value, evaluatePrefix: string | undefined): DebugProtocol.Variable[] {
    if (value === null || typeof value !== 'object') return [];
    const entries = Array.isArray(value)
      ? value.map((item, i) => [`[${i}]`, item] as const)
      : Object.entries(value);
    return entries
      .filter(([, item]) => item !== undefined && typeof item !== 'function')
      .map(([name, item]) => {
        const { result, variablesReference } = this.describeValue(item);
        const evaluateName =
          evaluatePrefix === undefined
            ? undefined
            : `${evaluatePrefix}${name.startsWith('[') ? name : `.${name}`}`;
        return { name, value: result, variablesReference, ...(evaluateName ? { evaluateName } : {}) };
      });
  }

  private describeValue(value: Value): { result: string; variablesReference: number } {
    if (value !== null && typeof value === 'object') {
      const size = Array.isArray(value) ? value.length : Object.keys(value).length;
      const name = !Array.isArray(value) && typeof value.name === 'string' ? `${value.name}: ` : '';
      const shown = Array.isArray(value) ? `[${size} items]` : `${name}{${size} fields}`;
      return { result: shown, variablesReference: this.add({ kind: 'value', value }) };
    }
    return {
      result:
        value === null || value === undefined
          ? 'null'
          : typeof value === 'string'
            ? this.mask(value)
            : String(value),
      variablesReference: 0,
    };
  }

  private add(container: Container): number {
    return this.containers.create(container);
  }
}

function notAVariable(expression: string): RequestError {
  return new RequestError(
    ErrorId.Evaluate,
    `${JSON.stringify(expression)} is not a job variable (try exitCode, env.NAME, steps[0].exitCode, steps.<id>.outcome, ` +
      `step.cwd or job.state). To run it as a shell command in the job, type !${expression}`,
    false,
  );
}

/** `a.b[0]['c d']` → ['a', 'b', 0, 'c d']; undefined if it is not such a path. */
function parsePath(expression: string): (string | number)[] | undefined {
  const text = expression.trim();
  const head = /^[A-Za-z_][\w]*/.exec(text);
  if (!head) return undefined;
  const path: (string | number)[] = [head[0]];
  let rest = text.slice(head[0].length);
  while (rest.length > 0) {
    const step = /^(?:\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/.exec(rest);
    if (!step) return undefined;
    path.push(step[2] !== undefined ? Number(step[2]) : (step[1] ?? step[3] ?? step[4])!);
    rest = rest.slice(step[0].length);
  }
  return path;
}

function lookup(value: Value, key: string | number): Value {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    if (typeof key === 'number') return value[key];
    return (value as unknown as Record<string, Value>)[key];
  }
  return Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

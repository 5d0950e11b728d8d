/**
 * Where a job pauses: line breakpoints in the job's source (a step's lines), function
 * breakpoints by step name or id, and exception filters (after a failed or cancelled
 * step). Conditions and log-point `{…}` parts are GitHub Actions expressions over the same
 * contexts as a workflow's `if:` (env, matrix, steps). Breakpoints may change while the
 * job runs: they are looked up again at every step boundary.
 */
import type { ExpressionContext } from '../model/expressionContext.js';
import type { JobDefinition, JobStep } from '../model/jobModel.js';
import { blocks, type StepResult } from '../model/stepResult.js';
import { evaluate, evaluateCondition, parseExpression, toDisplayString } from '../workflow/expressions.js';
import { EXCEPTION_FILTERS } from './exceptionFilters.js';
import type { JobRunner, PausePolicy, PauseRequest } from './jobRunner.js';

export interface BreakpointSpec {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface FunctionBreakpointSpec {
  name: string;
  condition?: string;
  hitCondition?: string;
}

export interface BreakpointState {
  id: number;
  verified: boolean;
  /** Where it really is: the first line of its step. */
  line?: number;
  message?: string;
}

interface Armed {
  id: number;
  /**
   * The steps it is on: one, or in a run of several jobs of one file the same step of each job
   * that has it (a matrix job runs once per combination).
   */
  at: ReadonlyArray<{ job: JobDefinition; stepIndex: number }>;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
  kind: 'line' | 'function';
}

/**
 * Expression contexts of the job as it stands (a workflow preparer adds outputs and matrix), as
 * seen where the step `stepIndex` is written (inside an action: its inputs).
 */
export type ContextSource = (runner: JobRunner, stepIndex: number) => ExpressionContext;

let nextId = 1;

export class Breakpoints implements PausePolicy {
  /** Line breakpoints by file: the job's own (its path, or '' for a listing) and each action.yml. */
  private linesByFile = new Map<string, Armed[]>();
  private functions: Armed[] = [];
  private filters = new Set<string>(EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));

  /** The launched job first, then the jobs of the run that it needs. */
  private readonly jobs: readonly JobDefinition[];

  constructor(
    private readonly job: JobDefinition,
    private readonly context: ContextSource,
    /** Where log points write (the debug console). */
    private readonly log: (text: string) => void,
    /** The run's other jobs (those the launched job needs), whose steps hold breakpoints too. */
    others: readonly JobDefinition[] = [],
  ) {
    this.jobs = [job, ...others];
  }

  /**
   * The step whose lines hold `line` (1-based), if any, in `file` (absolute; default the job's
   * own source). A JavaScript action's pre and post share their step's lines and are not it.
   */
  stepAtLine(line: number, file?: string): JobStep | undefined {
    return this.stepsAtLine(line, file)[0]?.step;
  }

  private stepsAtLine(line: number, file: string | undefined): { job: JobDefinition; step: JobStep }[] {
    return this.stepsIn(file).filter(
      ({ step }) => line >= step.location.line && line <= step.location.endLine,
    );
  }

  /** The steps written in `file` (default the job's own source), of every job of the run. */
  private stepsIn(file: string | undefined): { job: JobDefinition; step: JobStep }[] {
    const own = file === undefined || file === this.job.sourcePath;
    return this.stepsWhere(
      (step) => step.hook === undefined && (own ? step.sourcePath === undefined : step.sourcePath === file),
    );
  }

  /** Every step of every job of the run that matches, with its job. */
  private stepsWhere(matches: (step: JobStep) => boolean): { job: JobDefinition; step: JobStep }[] {
    return this.jobs.flatMap((job) => job.steps.filter(matches).map((step) => ({ job, step })));
  }

  private static placesOf(found: { job: JobDefinition; step: JobStep }[]): Armed['at'] {
    return found.map(({ job, step }) => ({ job, stepIndex: step.index }));
  }

  /** The line breakpoints of one file: `file` absolute, or undefined for the job's own source. */
  setLineBreakpoints(specs: readonly BreakpointSpec[], file?: string): BreakpointState[] {
    const states: BreakpointState[] = [];
    const lines: Armed[] = [];
    this.linesByFile.set(file === undefined || file === this.job.sourcePath ? '' : file, lines);
    for (const spec of specs) {
      const id = nextId++;
      const found = this.stepsAtLine(spec.line, file);
      const step = found[0]?.step;
      if (!step) {
        const starts = [...new Set(this.stepsIn(file).map(({ step: s }) => s.location.line))]
          .sort((a, b) => a - b)
          .join(', ');
        states.push({
          id,
          verified: false,
          line: spec.line,
          message: `line ${spec.line} is not inside a step (steps start at lines ${starts})`,
        });
        continue;
      }
      const problem = this.checkExpressions(spec);
      if (problem) {
        states.push({ id, verified: false, line: step.location.line, message: problem });
        continue;
      }
      lines.push({ id, at: Breakpoints.placesOf(found), ...definedOnly(spec), hits: 0, kind: 'line' });
      states.push({ id, verified: true, line: step.location.line });
    }
    return states;
  }

  setFunctionBreakpoints(specs: readonly FunctionBreakpointSpec[]): BreakpointState[] {
    this.functions = [];
    return specs.map((spec) => {
      const id = nextId++;
      const found = this.stepsWhere((s) => s.name === spec.name || s.id === spec.name);
      const step = found[0]?.step;
      if (!step) {
        const names = [...new Set(this.stepsWhere(() => true).map(({ step: s }) => s.id ?? s.name))].join(
          ', ',
        );
        return {
          id,
          verified: false,
          message: `no step is named or has the id ${JSON.stringify(spec.name)} (steps: ${names})`,
        };
      }
      const problem = this.checkExpressions(spec);
      if (problem) return { id, verified: false, message: problem };
      this.functions.push({
        id,
        at: Breakpoints.placesOf(found),
        ...definedOnly(spec),
        hits: 0,
        kind: 'function',
      });
      return { id, verified: true, line: step.location.line };
    });
  }

  /** Give an armed breakpoint the id the client already knows it by. */
  renumber(from: number, to: number): void {
    for (const breakpoint of [...[...this.linesByFile.values()].flat(), ...this.functions])
      if (breakpoint.id === from) breakpoint.id = to;
  }

  setExceptionFilters(filters: readonly string[]): void {
    this.filters = new Set(filters);
  }

  beforeStep(index: number, runner: JobRunner): PauseRequest | undefined {
    const hit: Armed[] = [];
    for (const breakpoint of [...[...this.linesByFile.values()].flat(), ...this.functions]) {
      if (!breakpoint.at.some((place) => place.job === runner.job && place.stepIndex === index)) continue;
      if (!this.conditionHolds(breakpoint, runner, index)) continue;
      breakpoint.hits++;
      if (!hitConditionHolds(breakpoint.hitCondition, breakpoint.hits)) continue;
      if (breakpoint.logMessage !== undefined) {
        this.log(this.interpolate(breakpoint.logMessage, runner, index));
        continue;
      }
      hit.push(breakpoint);
    }
    if (hit.length === 0) return undefined;
    const step = runner.job.steps[index]!;
    const functionHit = hit.every((b) => b.kind === 'function');
    return {
      reason: functionHit ? 'function breakpoint' : 'breakpoint',
      description: `Paused at a breakpoint before ${step.name}`,
      hitBreakpointIds: hit.map((b) => b.id),
    };
  }

  afterStep(result: StepResult, runner: JobRunner): PauseRequest | undefined {
    const step = runner.job.steps[result.index]!;
    // A step that ran out of time was cancelled by its timeout (its outcome stays a failure, 124).
    if ((result.outcome === 'cancelled' || result.timedOut) && this.filters.has('cancelled')) {
      return {
        reason: 'exception',
        description: `${step.name} ${result.timedOut ? 'timed out' : 'was cancelled'}`,
      };
    }
    if (result.outcome === 'failure' && blocks(result) && this.filters.has('failed')) {
      const what = result.timedOut ? 'timed out' : `failed with exit code ${result.exitCode ?? '?'}`;
      return { reason: 'exception', description: `${step.name} ${what}` };
    }
    return undefined;
  }

  private conditionHolds(breakpoint: Armed, runner: JobRunner, stepIndex: number): boolean {
    if (breakpoint.condition === undefined || breakpoint.condition.trim() === '') return true;
    try {
      return evaluateCondition(`always() && (${breakpoint.condition})`, this.context(runner, stepIndex));
    } catch (error) {
      // A condition that cannot be evaluated pauses, and says why, rather than being skipped silently.
      this.log(
        `breakpoint condition ${JSON.stringify(breakpoint.condition)} failed: ${(error as Error).message}`,
      );
      return true;
    }
  }

  private interpolate(message: string, runner: JobRunner, stepIndex: number): string {
    return message.replace(/\{([^{}]+)\}/g, (_match, expression: string) => {
      try {
        return toDisplayString(evaluate(parseExpression(expression), this.context(runner, stepIndex)));
      } catch (error) {
        return `{${expression}: ${(error as Error).message}}`;
      }
    });
  }

  private checkExpressions(spec: { condition?: string; hitCondition?: string }): string | undefined {
    try {
      if (spec.condition !== undefined && spec.condition.trim() !== '')
        parseExpression(unwrap(spec.condition));
    } catch (error) {
      return `the condition does not parse: ${(error as Error).message}`;
    }
    if (
      spec.hitCondition !== undefined &&
      spec.hitCondition.trim() !== '' &&
      !HIT_CONDITION.test(spec.hitCondition)
    ) {
      return `the hit condition ${JSON.stringify(spec.hitCondition)} is not one of N, == N, > N, >= N, < N, <= N, % N`;
    }
    return undefined;
  }
}

const HIT_CONDITION = /^\s*(==|=|>=|>|<=|<|%)?\s*(\d+)\s*$/;

/** `3` or `== 3`: the third hit; `>= 3`: from the third on; `% 2`: every second one. */
function hitConditionHolds(condition: string | undefined, hits: number): boolean {
  if (condition === undefined || condition.trim() === '') return true;
  const match = HIT_CONDITION.exec(condition);
  if (!match) return true;
  const n = Number(match[2]);
  switch (match[1] ?? '==') {
    case '>':
      return hits > n;
    case '>=':
      return hits >= n;
    case '<':
      return hits < n;
    case '<=':
      return hits <= n;
    case '%':
      return n > 0 && hits % n === 0;
    default:
      return hits === n;
  }
}

/** A condition may be written with the `${{ }}` of a workflow or without. */
function unwrap(expression: string): string {
  return expression
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .trim();
}

function definedOnly(spec: {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}): Partial<Armed> {
  return {
    ...(spec.condition !== undefined ? { condition: unwrap(spec.condition) } : {}),
    ...(spec.hitCondition !== undefined ? { hitCondition: spec.hitCondition } : {}),
    ...(spec.logMessage !== undefined ? { logMessage: spec.logMessage } : {}),
  };
}

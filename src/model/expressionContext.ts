/**
 * The contexts a workflow expression reads (`env`, `matrix`, `steps`, `github`, `runner`, `secrets`,
 * `vars`, `inputs`, `needs`, and the job status behind the status functions): the same for a step's `if:`, its `${{ }}` and a breakpoint condition.
 */
import type { JobDefinition, JobStep } from './jobModel.js';
import {
  conclusionOf,
  type JobResult,
  type JobStatus,
  type StepOutcome,
  type StepResult,
} from './stepResult.js';

export interface StepContext {
  outcome: StepOutcome;
  conclusion: StepOutcome;
  outputs: Record<string, string>;
}

/** What a job that ran before shows as `needs.<job>` to the jobs that need it. */
export interface NeedContext {
  outputs: Record<string, string>;
  result: JobResult;
}

export interface ExpressionContext {
  env: Record<string, string>;
  matrix: Record<string, unknown>;
  steps: Record<string, StepContext>;
  /** What the status functions see: the job's state before the step being decided. */
  jobStatus: JobStatus;
  /** A workflow job's `github` and `runner` contexts, once known (githubContext.ts); else empty. */
  github?: Record<string, unknown>;
  runner?: Record<string, unknown>;
  /**
   * A workflow launch's `secrets`, `vars` and `inputs` (launch arguments and files); for a job of
   * a called workflow, what the call passes; else empty. Inside an action (its action.yml),
   * `inputs` are the action's: the `with:` of the step that uses it over their defaults.
   */
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  inputs?: Record<string, unknown>;
  /** `hashFiles(…)` results computed before this evaluation, by their arguments (hashFilesKey). */
  fileHashes?: ReadonlyMap<string, string>;
  /** `needs.<job>`: the jobs this job needs, once they ran (or as the launch gave them); else empty. */
  needs?: Record<string, NeedContext>;
  /** `jobs.<job>` of a called workflow's `outputs` (its jobs' outputs and results). */
  jobs?: Record<string, NeedContext>;
}

/** The contexts of a run that do not change from step to step: each as far as it is known. */
export type RunContexts = Pick<
  ExpressionContext,
  'github' | 'runner' | 'secrets' | 'vars' | 'inputs' | 'needs'
>;

/** What a finished step shows as `steps.<id>`. */
export function stepContext(result: StepResult, outputs: Record<string, string> = {}): StepContext {
  return { outcome: result.outcome, conclusion: conclusionOf(result), outputs };
}

/**
 * The contexts as the job stands: the one place they are put together, for a workflow's `if:`
 * and `${{ }}`, its job env at load, and breakpoint conditions and log points in any job.
 * `steps` holds the finished steps' contexts by step index.
 */
export function expressionContext(
  job: Pick<JobDefinition, 'origin' | 'steps' | 'workflow'>,
  env: Readonly<Record<string, string>>,
  jobStatus: JobStatus,
  steps: ReadonlyMap<number, StepContext> = new Map(),
  run: RunContexts = {},
): ExpressionContext {
  const byKey: Record<string, StepContext> = {};
  for (const [index, context] of steps) {
    const step = job.steps[index];
    if (step !== undefined) byKey[stepKey(job, step)] = context;
  }
  return {
    env: { ...env },
    matrix: job.workflow?.matrix ?? {},
    steps: byKey,
    jobStatus,
    ...definedOnly(run),
  };
}

const RUN_CONTEXTS = ['github', 'runner', 'secrets', 'vars', 'inputs', 'needs'] as const;

/** The run's contexts that are known, and nothing else of `run` (a JobContexts carries `env` too). */
function definedOnly(run: RunContexts): RunContexts {
  return Object.fromEntries(
    RUN_CONTEXTS.filter((key) => run[key] !== undefined).map((key) => [key, run[key]]),
  );
}

/**
 * The name of a step in `steps`: its id. A plain job's steps have no ids, so there a step also
 * goes by its name; a workflow's step without an id is kept under a name no expression writes.
 */
function stepKey(job: Pick<JobDefinition, 'origin'>, step: JobStep): string {
  if (step.id !== undefined) return step.id;
  return job.origin === 'workflow' ? `__step${step.index}` : step.name;
}

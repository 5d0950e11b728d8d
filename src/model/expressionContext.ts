/**
 * The contexts a workflow expression reads (`env`, `matrix`, `steps`, and the job status behind
 * the status functions): the same for a step's `if:`, its `${{ }}` and a breakpoint condition.
 */
import type { JobStatus, StepOutcome } from './stepResult.js';

export interface StepContext {
  outcome: StepOutcome;
  conclusion: StepOutcome;
  outputs: Record<string, string>;
}

export interface ExpressionContext {
  env: Record<string, string>;
  matrix: Record<string, unknown>;
  steps: Record<string, StepContext>;
  /** What the status functions see: the job's state before the step being decided. */
  jobStatus: JobStatus;
}

/**
 * What running a step produced, and why a job pauses: the results the job runner records,
 * the breakpoints and the debug view read, and a workflow's `steps` context reports.
 */

/** How a step ended; also `steps.<id>.outcome` in a workflow expression. */
export type StepOutcome = 'success' | 'failure' | 'cancelled' | 'skipped';

/**
 * The job's state so far, as a workflow's status functions (`success()`, `failure()`) see it.
 * `skipped` only for a job-level `if:` whose needed jobs did not all succeed, none failing:
 * there GitHub's `success()` and `failure()` are both false.
 */
export type JobStatus = 'success' | 'failure' | 'cancelled' | 'skipped';

/** How a whole job ended: `needs.<job>.result`. */
export type JobResult = 'success' | 'failure' | 'cancelled' | 'skipped';

/** Why the job pauses before or after a step (the DAP `stopped` reason is derived from it). */
export type StopReason =
  'entry' | 'step' | 'pause' | 'breakpoint' | 'function breakpoint' | 'exception' | 'goto' | 'restart';

export interface StepResult {
  index: number;
  outcome: StepOutcome;
  exitCode: number | null;
  durationMs: number;
  /** The end of the step's output, for exception details. */
  outputTail: string;
  /** Why, for a skipped or cancelled step, or a relay failure. */
  note?: string;
  timedOut?: boolean;
  /** A failure that does not fail the job (continue-on-error). */
  tolerated?: boolean;
}

/**
 * A step result that makes the job fail: a failure not tolerated, or a cancelled step (except a
 * background step stopped on purpose, by a `cancel:` step or at the job's end).
 */
export function blocks(result: StepResult): boolean {
  return (result.outcome === 'failure' || result.outcome === 'cancelled') && !result.tolerated;
}

/** `steps.<id>.conclusion`: the outcome, except that a tolerated failure concludes as a success. */
export function conclusionOf(result: StepResult): StepOutcome {
  return result.outcome === 'failure' && result.tolerated === true ? 'success' : result.outcome;
}

import type { JobStep } from '../../src/model/jobModel.js';

/**
 * A step as a loader should return it, written by what sets it apart: most steps have no env
 * of their own and stop the job on failure, so a table of expected steps reads as the file does.
 * `fields` overrides those defaults (`env`, `continueOnError`) and adds the rest (`run`, `uses`…).
 */
export function expectedStep(
  index: number,
  name: string,
  [line, endLine]: [number, number],
  fields: Partial<JobStep> = {},
): JobStep {
  return { index, name, env: {}, continueOnError: false, ...fields, location: { line, endLine } };
}

/**
 * The launch argument `debugSteps`: the steps whose Python processes run under debugpy, named
 * as function breakpoints name them (a step's name, or its workflow `id:`). A job file marks
 * its own with `debug: python` (workflow/jobFile.ts).
 */
import type { JobDefinition } from '../model/jobModel.js';
import { JobError } from './jobErrors.js';

/** Marks the steps `names` names in the run's jobs; a name that matches none is an error naming it and the steps there are. */
export function markDebugSteps(jobs: readonly JobDefinition[], names: readonly string[]): void {
  const steps = jobs.flatMap((job) => job.steps);
  for (const name of names) {
    const found = steps.filter((step) => step.name === name || step.id === name);
    if (found.length === 0) {
      const known = [...new Set(steps.map((step) => step.id ?? step.name))].join(', ');
      throw new JobError(
        'invalid-job',
        `debugSteps: no step is named or has the id ${JSON.stringify(name)} (steps: ${known}): use one of these`,
      );
    }
    for (const step of found) step.debug = 'python';
  }
}

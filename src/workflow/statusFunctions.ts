/**
 * `success()`, `failure()`, `cancelled()` and `always()`: GitHub's status functions, which the
 * library leaves to its host. Each is an extension function of the parser (name and arity) and of
 * the evaluator (what it returns for the job's state before the step being decided).
 */
import { BooleanData } from '@actions/expressions/data/index';
import type { FunctionDefinition, FunctionInfo } from '@actions/expressions/funcs/info';
import type { JobStatus } from '../model/stepResult.js';

const STATUS_NAMES = ['success', 'failure', 'cancelled', 'always'] as const;

/** What the parser needs to know of them. */
export const STATUS_FUNCTIONS: readonly FunctionInfo[] = STATUS_NAMES.map((name) => ({
  name,
  minArgs: 0,
  maxArgs: 0,
}));

/** Their implementations for one evaluation, keyed by lower-case name as the evaluator looks them up. */
export function statusFunctions(jobStatus: JobStatus): Map<string, FunctionDefinition> {
  return new Map(
    STATUS_NAMES.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () => new BooleanData(name === 'always' || name === jobStatus),
      },
    ]),
  );
}

/** Whether a function name (any case) is one of them. */
export function isStatusFunction(name: string): boolean {
  return (STATUS_NAMES as readonly string[]).includes(name.toLowerCase());
}

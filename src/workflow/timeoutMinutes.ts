/**
 * `timeout-minutes:` of a job or a step, written as a number or as a `${{ }}` expression. GitHub
 * evaluates a step's just before the step runs (with the step's contexts, `steps` and `env`
 * included) and a job's before the job starts (`github`, `matrix`, `needs`, `vars`, `inputs`);
 * relay-dap does the same (src/job/workflowSteps.ts, src/job/githubFacts.ts). The value must be a
 * number of minutes, or a string holding one (GitHub converts it).
 */
import type { ExpressionContext } from '../model/expressionContext.js';
import { MAX_TIMEOUT_SECONDS } from '../time/longTimeout.js';
import { ExpressionError, parseNumberText, toDisplayString, withLine } from './expressions.js';
import { evaluateTemplateValue, type LocatedTemplate } from './locatedExpressions.js';

const MAX_MINUTES = MAX_TIMEOUT_SECONDS / 60;

/** The reason a written or computed value is not a timeout, or undefined when it is one. */
export function timeoutProblem(minutes: unknown): string | undefined {
  if (typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 && minutes <= MAX_MINUTES)
    return undefined;
  return `must be a positive number of minutes, at most ${MAX_MINUTES} (365 days)`;
}

/** Seconds of a timeout written as an expression. Throws an ExpressionError naming file and line. */
export function evaluateTimeoutSeconds(template: LocatedTemplate, context: ExpressionContext): number {
  const value = evaluateTemplateValue(template, context);
  const minutes = typeof value === 'string' ? parseNumberText(value) : value;
  const problem = timeoutProblem(minutes);
  if (problem === undefined) return (minutes as number) * 60;
  const source = template.text.replace(/^\s*\$\{\{\s*|\s*\}\}\s*$/g, '');
  throw withLine(
    new ExpressionError(`timeout-minutes is ${toDisplayString(value) || "''"}: it ${problem}`, source),
    template.line,
    template.file,
  );
}

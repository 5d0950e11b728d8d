/**
 * A job's `timeout-minutes: ${{ … }}`, decided as GitHub decides it: before the job starts, with
 * the contexts GitHub offers there (`github`, `needs`, `strategy`, `matrix`, `vars`, `inputs`).
 * One reading only the matrix is decided at load; one reading `github`, `vars` or `inputs` at
 * launch, once the git checkout, the event and the launch's values are read (settleGithubTimeout
 * in src/job/githubFacts.ts); one reading what relay-dap does not know at launch (`needs`) leaves
 * the job without that timeout, said in a console line. `env`, `steps` and `runner` are refused,
 * as GitHub refuses them.
 */
import { expressionContext, type RunContexts } from '../model/expressionContext.js';
import type { LaunchNote } from '../model/jobModel.js';
import { ExpressionError, referencedContexts } from './expressions.js';
import type { LocatedTemplate } from './locatedExpressions.js';
import type { MatrixCombination } from './matrix.js';
import { evaluateTimeoutSeconds } from './timeoutMinutes.js';

const OFFERED = ['github', 'needs', 'strategy', 'matrix', 'vars', 'inputs'];

/**
 * A job's timeout is settled at launch; `needs` is known only when the run gets to the job
 * (src/job/workflowRun.ts), so a timeout reading it is left off, and said.
 */
const NOT_KNOWN_AT_LAUNCH: readonly string[] = ['needs'];

export type JobTimeoutDecision = { seconds: number } | { pending: LocatedTemplate } | { note: LaunchNote };

export function decideJobTimeout(template: LocatedTemplate, matrix: MatrixCombination): JobTimeoutDecision {
  const read = new Set<string>();
  for (const part of template.parts) {
    if (part.kind === 'text') continue;
    for (const context of referencedContexts(part.expr)) {
      if (!OFFERED.includes(context)) {
        throw new ExpressionError(
          `the '${context}' context is not available in a job's timeout-minutes (GitHub offers ${OFFERED.join(', ')} there)`,
          part.source,
          undefined,
          template.expressionLines.get(part.offset) ?? template.line,
          template.file,
        );
      }
      read.add(context);
    }
  }
  const unknown = NOT_KNOWN_AT_LAUNCH.filter((context) => read.has(context));
  if (unknown.length > 0) {
    const { line } = template;
    return {
      note: {
        line,
        text: `timeout-minutes (line ${line}): reads ${unknown.join(' and ')}, which relay-dap does not know at launch: the job runs without that timeout`,
      },
    };
  }
  if (['github', 'vars', 'inputs'].some((context) => read.has(context))) return { pending: template };
  return { seconds: jobTimeoutSeconds(template, matrix, {}) };
}

/**
 * Seconds of a job's timeout, with the matrix and (at launch) `github`, `vars` and `inputs`.
 * Throws an ExpressionError with the line.
 */
export function jobTimeoutSeconds(
  template: LocatedTemplate,
  matrix: MatrixCombination,
  run: RunContexts,
): number {
  const context = expressionContext(
    { origin: 'workflow', steps: [], workflow: { jobId: '', matrix } },
    {},
    'success',
    new Map(),
    run,
  );
  return evaluateTimeoutSeconds(template, context);
}

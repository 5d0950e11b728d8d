/**
 * A job-level `if:`, decided at launch as GitHub decides it for a job whose `needs` all
 * succeeded: `success()` and `always()` are true, `failure()` and `cancelled()` false.
 *
 * What it may read is GitHub's rule: `github`, `needs`, `vars` and `inputs`. `env`, `matrix` and
 * `steps` are refused with the line (GitHub refuses them too; read as empty they would skip the
 * job without a reason). One reading `github`, `vars` or `inputs` is returned parsed, to be
 * decided at launch with the github context and the launch's values (src/job/githubFacts.ts).
 * `needs` has no value at launch yet: the job one launched to debug runs, and a console line
 * says the condition was assumed true — a difference said, never silent.
 */
import { expressionContext } from '../model/expressionContext.js';
import type { LaunchNote } from '../model/jobModel.js';
import { ExpressionError, referencedContexts } from './expressions.js';
import { evaluateLocatedCondition, type LocatedCondition } from './locatedExpressions.js';
import type { YamlSource } from './yamlSource.js';

/** GitHub offers these in a job-level `if:`; relay-dap cannot fill them in at launch yet. */
export const NOT_KNOWN_AT_LAUNCH: readonly string[] = ['needs'];

/** Known once the launch is read (the checkout, the event, the launch's vars and inputs). */
const KNOWN_AT_LAUNCH: ReadonlySet<string> = new Set(['github', 'vars', 'inputs']);

/** Whether the job runs; or its condition, to decide at launch; or the assumption made. */
export type JobConditionDecision = boolean | { located: LocatedCondition } | { assumed: LaunchNote };

export function decideJobCondition(
  source: YamlSource,
  located: LocatedCondition,
  jobId: string,
): JobConditionDecision {
  const { body } = located.condition;
  const parts = body.kind === 'expression' ? [body] : body.parts;
  let readsLaunch = false;
  const unknown = new Set<string>();
  for (const part of parts) {
    if (part.kind === 'text') continue;
    for (const context of referencedContexts(part.expr)) {
      if (KNOWN_AT_LAUNCH.has(context)) readsLaunch = true;
      else if (NOT_KNOWN_AT_LAUNCH.includes(context)) unknown.add(context);
      else
        throw source.error(
          located.line,
          `the '${context}' context is not available in a job-level if: (GitHub offers github, needs, vars and inputs there) (in expression \`${part.source}\`)`,
        );
    }
  }
  if (unknown.size > 0) {
    const { line } = located;
    const names = [...unknown].join(' and ');
    const text = `if (line ${line}): reads ${names}, which relay-dap does not know at launch: the job runs as if the condition were true`;
    return { assumed: { line, text } };
  }
  if (readsLaunch) return { located };
  const noJobYet = expressionContext(
    { origin: 'workflow', steps: [], workflow: { jobId, matrix: {} } },
    {},
    'success',
  );
  try {
    return evaluateLocatedCondition(located, noJobYet);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw source.error(error.line ?? located.line, `${error.reason} (in expression \`${error.expression}\`)`);
  }
}

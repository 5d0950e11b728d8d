/**
 * A job-level `if:`, decided as GitHub decides it. For a job without `needs:` that is at
 * launch: `success()` and `always()` are true, `failure()` and `cancelled()` false. A job with
 * `needs:` (or a condition reading `needs`) is decided when the jobs it needs have ended, with
 * their results (src/job/workflowRun.ts): here the condition is only parsed and checked.
 *
 * What it may read is GitHub's rule: `github`, `needs`, `vars` and `inputs`. `env`, `matrix` and
 * `steps` are refused with the line (GitHub refuses them too; read as empty they would skip the
 * job without a reason). One reading `github`, `vars` or `inputs` is returned parsed, to be
 * decided at launch with the github context and the launch's values (src/job/githubFacts.ts).
 */
import { expressionContext } from '../model/expressionContext.js';
import { ExpressionError, referencedContexts } from './expressions.js';
import { evaluateLocatedCondition, type LocatedCondition } from './locatedExpressions.js';
import type { YamlSource } from './yamlSource.js';

/** Known once the launch is read (the checkout, the event, the launch's vars and inputs). */
const KNOWN_AT_LAUNCH: ReadonlySet<string> = new Set(['github', 'vars', 'inputs']);

/** Whether the job runs; or its condition, to decide at launch or when its needs have ended. */
export type JobConditionDecision = boolean | { located: LocatedCondition };

export function decideJobCondition(
  source: YamlSource,
  located: LocatedCondition,
  jobId: string,
  /** The job has `needs:`: its `if:` (even one reading nothing) depends on their results. */
  hasNeeds = false,
): JobConditionDecision {
  const { body } = located.condition;
  const parts = body.kind === 'expression' ? [body] : body.parts;
  let decidedLater = hasNeeds;
  for (const part of parts) {
    if (part.kind === 'text') continue;
    for (const context of referencedContexts(part.expr)) {
      if (KNOWN_AT_LAUNCH.has(context) || context === 'needs') decidedLater = true;
      else
        throw source.error(
          located.line,
          `the '${context}' context is not available in a job-level if: (GitHub offers github, needs, vars and inputs there) (in expression \`${part.source}\`)`,
        );
    }
  }
  if (decidedLater) return { located };
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

/**
 * The secrets a workflow job reads, found in its parsed expressions (job env, job `if:`, each
 * step's `if:`, run, env, working-directory and continue-on-error), so that a secret the launch
 * does not give can be named once at launch: it is then empty, as on GitHub for a secret that is
 * not set, and the user should hear of it before a step fails for want of it.
 */
import { type Expr, namesReadFrom, type TemplatePart } from './expressions.js';
import type { LocatedCondition, LocatedTemplate } from './locatedExpressions.js';
import type { WorkflowJobDefinition } from './workflowFile.js';

function templateExpressions(template: LocatedTemplate | undefined): Expr[] {
  return partExpressions(template?.parts ?? []);
}

function partExpressions(parts: readonly TemplatePart[]): Expr[] {
  return parts.flatMap((part) => (part.kind === 'expression' ? [part.expr] : []));
}

function conditionExpressions(located: LocatedCondition | undefined): Expr[] {
  if (located === undefined) return [];
  const { body } = located.condition;
  return body.kind === 'expression' ? [body.expr] : partExpressions(body.parts);
}

/** The names after `secrets.` in the job's expressions, as first written, in order of appearance. */
export function secretNamesRead(job: WorkflowJobDefinition): string[] {
  const expressions: Expr[] = [
    ...Object.values(job.envExpressions).flatMap(templateExpressions),
    ...conditionExpressions(job.githubCondition?.located),
    ...job.steps.flatMap((step) => [
      ...conditionExpressions(step.expressions.condition),
      ...templateExpressions(step.expressions.run),
      ...Object.values(step.expressions.env).flatMap(templateExpressions),
      ...templateExpressions(step.expressions.cwd),
      ...templateExpressions(step.expressions.continueOnError),
    ]),
  ];
  const names = new Map<string, string>();
  for (const expr of expressions) {
    for (const name of namesReadFrom(expr, 'secrets')) {
      if (!names.has(name.toUpperCase())) names.set(name.toUpperCase(), name);
    }
  }
  return [...names.values()];
}

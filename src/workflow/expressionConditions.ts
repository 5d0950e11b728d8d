/**
 * `if:` conditions: the `${{ }}` wrapper is optional, and without a status function GitHub adds
 * an implicit `success() &&` in front.
 */
import { type Expr, evaluateNamed, parseExpression, usesStatusFunction } from './expressionEngine.js';
import { hasExpressions, parseTemplate, type TemplatePart } from './expressionTemplates.js';
import { isTruthy, toDisplayString } from './expressionValues.js';
import type { ExpressionContext } from '../model/expressionContext.js';

export interface ParsedCondition {
  /** The text as written. */
  text: string;
  /**
   * The expression, or the parts of a text that mixes literal text with `${{ }}`: GitHub turns
   * that into a string, which is true when non-empty (a classic pitfall, kept faithfully).
   */
  body: { kind: 'expression'; source: string; expr: Expr } | { kind: 'template'; parts: TemplatePart[] };
  /** When no status function appears, GitHub runs the step only if `success()` as well. */
  implicitSuccess: boolean;
}

/**
 * Parses an `if:` value; the `${{ }}` wrapper is optional. Throws ExpressionError.
 * `alsoContexts`: as for parseExpression.
 */
export function parseCondition(ifText: string, alsoContexts: readonly string[] = []): ParsedCondition {
  const text = ifText.trim();
  if (text === '') {
    return {
      text: ifText,
      body: { kind: 'expression', source: 'success()', expr: parseExpression('success()') },
      implicitSuccess: false,
    };
  }
  if (!hasExpressions(text)) {
    const expr = parseExpression(text, alsoContexts);
    return {
      text: ifText,
      body: { kind: 'expression', source: text, expr },
      implicitSuccess: !usesStatusFunction(expr),
    };
  }
  const parts = parseTemplate(text, alsoContexts);
  const [only] = parts;
  if (parts.length === 1 && only?.kind === 'expression') {
    return {
      text: ifText,
      body: { kind: 'expression', source: only.source, expr: only.expr },
      implicitSuccess: !usesStatusFunction(only.expr),
    };
  }
  const statusUsed = parts.some((part) => part.kind === 'expression' && usesStatusFunction(part.expr));
  return { text: ifText, body: { kind: 'template', parts }, implicitSuccess: !statusUsed };
}

export function evaluateParsedCondition(condition: ParsedCondition, context: ExpressionContext): boolean {
  // `success() && (expr)`: when the job already failed the expression is not even evaluated.
  if (condition.implicitSuccess && context.jobStatus !== 'success') return false;
  const { body } = condition;
  if (body.kind === 'expression') return isTruthy(evaluateNamed(body.expr, body.source, context));
  const text = body.parts
    .map((part) =>
      part.kind === 'text' ? part.text : toDisplayString(evaluateNamed(part.expr, part.source, context)),
    )
    .join('');
  return isTruthy(text);
}

/** Decides a step's `if:` the way GitHub does, including the implicit `success() &&`. */
export function evaluateCondition(ifText: string, context: ExpressionContext): boolean {
  return evaluateParsedCondition(parseCondition(ifText), context);
}

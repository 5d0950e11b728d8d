/**
 * Text holding `${{ … }}` (a `run:`, an `env:` value, a name): split into literal text and parsed
 * expressions, and substituted. The library knows single expressions only; where one ends inside
 * a template, and how its value becomes text, are GitHub's rules kept here.
 */
import { type Expr, evaluateNamed, parseExpression } from './expressionEngine.js';
import { ExpressionError } from './expressionErrors.js';
import { toDisplayString } from './expressionValues.js';
import type { ExpressionContext } from '../model/expressionContext.js';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | {
      kind: 'expression';
      /** The text between `${{` and `}}`, trimmed. */
      source: string;
      expr: Expr;
      /** Offset of the `${{` within the template. */
      offset: number;
    };

/**
 * Splits a text into literal parts and parsed `${{ }}` expressions. The closing `}}` is the first
 * one outside a string literal, so `${{ format('{{0}}', 1) }}` works. Throws ExpressionError with
 * `templateOffset` set, so a loader can find the line of the failing expression.
 */
export function parseTemplate(text: string, alsoContexts: readonly string[] = []): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let position = 0;
  for (;;) {
    const open = text.indexOf('${{', position);
    if (open < 0) break;
    if (open > position) parts.push({ kind: 'text', text: text.slice(position, open) });
    const close = findClosing(text, open + 3);
    if (close < 0) {
      throw new ExpressionError(
        "'${{' is never closed by '}}'",
        text.slice(open + 3).trim(),
        undefined,
        undefined,
        undefined,
        open,
      );
    }
    const source = text.slice(open + 3, close).trim();
    try {
      parts.push({ kind: 'expression', source, expr: parseExpression(source, alsoContexts), offset: open });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      throw new ExpressionError(error.reason, error.expression, error.column, undefined, undefined, open);
    }
    position = close + 2;
  }
  if (position < text.length) parts.push({ kind: 'text', text: text.slice(position) });
  return parts;
}

function findClosing(text: string, from: number): number {
  let inString = false;
  for (let index = from; index < text.length; index++) {
    const char = text.charAt(index);
    // A doubled '' inside a string toggles twice, which is exactly right.
    if (char === "'") inString = !inString;
    else if (!inString && char === '}' && text.charAt(index + 1) === '}') return index;
  }
  return -1;
}

export function hasExpressions(text: string): boolean {
  return text.includes('${{');
}

/** Replaces every `${{ … }}` by its value as text (see toDisplayString). */
export function substitute(text: string, context: ExpressionContext): string {
  return parseTemplate(text)
    .map((part) =>
      part.kind === 'text' ? part.text : toDisplayString(evaluateNamed(part.expr, part.source, context)),
    )
    .join('');
}

/**
 * The value of a field that may be one whole `${{ }}` (then its value keeps its type, e.g. a
 * boolean for `continue-on-error: ${{ matrix.experimental }}`) or text (then a substituted string).
 */
export function evaluateTemplateValue(text: string, context: ExpressionContext): unknown {
  const parts = parseTemplate(text.trim());
  const [only] = parts;
  if (parts.length === 1 && only?.kind === 'expression')
    return evaluateNamed(only.expr, only.source, context);
  return substitute(text, context);
}

/**
 * A workflow's `${{ }}` as the loader leaves them: parsed once, when the file is read, each
 * expression with the line it is written on. Evaluating one at run time needs no parsing and
 * no search of the file: an error names the line the loader recorded.
 */
import type { ExpressionContext } from '../model/expressionContext.js';
import {
  evaluate,
  evaluateParsedCondition,
  ExpressionError,
  type ParsedCondition,
  type TemplatePart,
  toDisplayString,
  withLine,
} from './expressions.js';

/** Where a value was written: the file, the line it starts on, and the line of each `${{` in it. */
export interface ValueLocation {
  file: string;
  /** The line the value starts on (for an error not tied to one `${{ }}`). */
  line: number;
  /** The line of each `${{`, by its offset in the value's text. */
  expressionLines: ReadonlyMap<number, number>;
}

/** A value that may hold `${{ }}` (a run script, an env value, a working-directory). */
export interface LocatedTemplate extends ValueLocation {
  /** As written. */
  text: string;
  parts: readonly TemplatePart[];
}

/** An `if:` (or the implicit `success()` of a step without one). */
export interface LocatedCondition extends ValueLocation {
  condition: ParsedCondition;
}

/** Every `${{ }}` replaced by its value as text. Throws an ExpressionError naming file and line. */
export function evaluateTemplate(template: LocatedTemplate, context: ExpressionContext): string {
  return template.parts.map((part) => partText(template, part, context)).join('');
}

/**
 * A field that may be one whole `${{ }}` (its value keeps its type, e.g. a boolean for
 * `continue-on-error: ${{ matrix.experimental }}`) or text (then the substituted string).
 */
export function evaluateTemplateValue(template: LocatedTemplate, context: ExpressionContext): unknown {
  const meaningful = template.parts.filter((part) => part.kind === 'expression' || part.text.trim() !== '');
  const [only] = meaningful;
  if (meaningful.length === 1 && only?.kind === 'expression') return partValue(template, only, context);
  return evaluateTemplate(template, context);
}

/** Decides an `if:` the way GitHub does. Throws an ExpressionError naming file and line. */
export function evaluateLocatedCondition(located: LocatedCondition, context: ExpressionContext): boolean {
  try {
    return evaluateParsedCondition(located.condition, context);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    const { body } = located.condition;
    // Which `${{ }}` of a condition mixing text and expressions failed: the one the error names.
    const part =
      body.kind === 'template'
        ? body.parts.find(
            (candidate) => candidate.kind === 'expression' && candidate.source === error.expression,
          )
        : undefined;
    const line = part?.kind === 'expression' ? located.expressionLines.get(part.offset) : undefined;
    throw withLine(error, line ?? located.line, located.file);
  }
}

function partText(template: LocatedTemplate, part: TemplatePart, context: ExpressionContext): string {
  return part.kind === 'text' ? part.text : toDisplayString(partValue(template, part, context));
}

function partValue(
  template: LocatedTemplate,
  part: Extract<TemplatePart, { kind: 'expression' }>,
  context: ExpressionContext,
): unknown {
  try {
    return evaluate(part.expr, context);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw withLine(error, template.expressionLines.get(part.offset) ?? template.line, template.file);
  }
}

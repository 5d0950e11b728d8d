/**
 * The GitHub Actions expression language (`${{ … }}`), as documented in "Evaluate expressions in
 * workflows and actions". Lexing, parsing and evaluation are GitHub's own implementation,
 * @actions/expressions (expressionEngine.ts); relay-dap keeps around it only what the library
 * leaves to its host: templates (expressionTemplates.ts), `if:` with its implicit `success()`
 * (expressionConditions.ts), the status functions (statusFunctions.ts), and errors that name the
 * expression, the line and the next step (expressionErrors.ts). docs/expressions.md lists where
 * the switch to the library changed a result.
 *
 * Only the contexts relay-dap fills in are known (`env`, `matrix`, `steps`, `github`, `runner`,
 * `secrets`, `vars`, `inputs`). Anything else (`needs`, `job`, `strategy`, …) is refused when the
 * expression is parsed, so a workflow that needs it fails at load time with its line, never with a
 * silently empty value.
 */

export {
  type ContextName,
  type Expr,
  evaluate,
  hashFilesArguments,
  namesReadFrom,
  parseExpression,
  referencedContexts,
  SUPPORTED_CONTEXTS_TEXT,
  usesStatusFunction,
} from './expressionEngine.js';
export { ExpressionError, withLine } from './expressionErrors.js';
export {
  evaluateTemplateValue,
  hasExpressions,
  parseTemplate,
  substitute,
  type TemplatePart,
} from './expressionTemplates.js';
export {
  evaluateCondition,
  evaluateParsedCondition,
  parseCondition,
  type ParsedCondition,
} from './expressionConditions.js';
export { isTruthy, looseEquals, parseNumberText, toDisplayString } from './expressionValues.js';

/**
 * Lexing, parsing and evaluation of one expression (the text inside `${{ }}`), by GitHub's own
 * implementation, @actions/expressions. What is relay-dap's around it: which contexts exist here,
 * the status functions as extension functions, `steps.<id>` checked at parse time, and errors in
 * the project's wording with the expression and column.
 */
import {
  ContextAccess,
  type Expr,
  FunctionCall,
  IndexAccess,
  Literal,
  Binary,
  Grouping,
  Logical,
  Unary,
} from '@actions/expressions/ast';
import * as data from '@actions/expressions/data/index';
import { Evaluator } from '@actions/expressions/evaluator';
import { wellKnownFunctions } from '@actions/expressions/funcs';
import type { FunctionDefinition, FunctionInfo } from '@actions/expressions/funcs/info';
import { Lexer, type Token, TokenType } from '@actions/expressions/lexer';
import { Parser } from '@actions/expressions/parser';
import type { ExpressionContext } from '../model/expressionContext.js';
import {
  type ErrorWording,
  ExpressionError,
  fromLexerError,
  fromParserError,
  tokenColumn,
} from './expressionErrors.js';
import { fromData, toData } from './expressionValues.js';
import { HASH_FILES, hashFilesFunction } from './hashFilesFunction.js';
import { isStatusFunction, STATUS_FUNCTIONS, statusFunctions } from './statusFunctions.js';

export type { Expr } from '@actions/expressions/ast';

export type ContextName =
  'env' | 'matrix' | 'steps' | 'github' | 'runner' | 'secrets' | 'vars' | 'inputs' | 'needs';
const CONTEXTS: readonly ContextName[] = [
  'env',
  'matrix',
  'steps',
  'github',
  'runner',
  'secrets',
  'vars',
  'inputs',
  'needs',
];

export const SUPPORTED_CONTEXTS_TEXT =
  'env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>, github.*, runner.*, secrets.*, vars.*, inputs.*, needs.<job>.outputs.<name>, needs.<job>.result';

/** Contexts GitHub has that relay-dap cannot provide; named so their error says exactly that. */
const UNAVAILABLE_CONTEXTS = new Set(['job', 'jobs', 'strategy']);

const STEP_PROPERTIES = new Set(['outcome', 'conclusion', 'outputs']);

const SUPPORTED_FUNCTIONS_TEXT =
  'success(), failure(), always(), cancelled(), contains, startsWith, endsWith, format, join, toJSON, fromJSON, case, hashFiles';

/** Every function by lower-case name, for the arity in error messages. */
const FUNCTIONS: ReadonlyMap<string, FunctionInfo> = new Map<string, FunctionInfo>([
  ...Object.entries(wellKnownFunctions),
  ...STATUS_FUNCTIONS.map((definition) => [definition.name, definition] as const),
  [HASH_FILES.name.toLowerCase(), HASH_FILES],
]);

const WORDING: ErrorWording = {
  unknownContext(written) {
    const reason = UNAVAILABLE_CONTEXTS.has(written.toLowerCase())
      ? `the '${written}' context is not available when running a workflow step by step through relay-dap`
      : `unknown name '${written}' (not a context relay-dap provides)`;
    return `${reason}; supported: ${SUPPORTED_CONTEXTS_TEXT}`;
  },
  unknownFunction(written) {
    return `unknown function '${written}'; supported functions: ${SUPPORTED_FUNCTIONS_TEXT}`;
  },
  arity(written, got) {
    const { minArgs: min = 0, maxArgs: max = 0 } = FUNCTIONS.get(written.toLowerCase()) ?? {};
    if (written.toLowerCase() === 'case' && got >= min)
      return `case() takes an odd number of arguments (condition, value, …, default), got ${got}`;
    const expected = min === max ? `${min}` : max >= 255 ? `at least ${min}` : `${min} to ${max}`;
    return `${written}() takes ${expected} argument(s), got ${got}`;
  },
};

/** The text each parsed tree came from, so evaluation errors can name the expression. */
const expressionSources = new WeakMap<Expr, string>();

/**
 * Parses the text inside `${{ }}` (without the wrapper). Throws ExpressionError. `alsoContexts`:
 * contexts accepted here beyond those relay-dap evaluates, for a caller that decides what to do
 * with them before evaluating (a job-level `if:` reading `needs`).
 */
export function parseExpression(text: string, alsoContexts: readonly string[] = []): Expr {
  const expression = text.trim();
  let tokens: Token[];
  try {
    tokens = unescapeStrings(new Lexer(expression).lex().tokens);
  } catch (error) {
    throw fromLexerError(error, expression) ?? error;
  }
  let expr: Expr | undefined;
  try {
    expr = new Parser(tokens, [...CONTEXTS, ...alsoContexts], [...STATUS_FUNCTIONS, HASH_FILES]).parse();
  } catch (error) {
    throw fromParserError(error, expression, tokens, WORDING) ?? error;
  }
  if (expr === undefined) throw new ExpressionError('an expression was expected', expression, 1);
  walk(expr, (node) => checkStepsPath(node, expression, tokens));
  expressionSources.set(expr, expression);
  return expr;
}

/**
 * The lexer replaces only the first `''` of a string literal by `'` (JavaScript's replace with a
 * string pattern; the runner's C# Replace does all): the value is read again from the lexeme.
 */
function unescapeStrings(tokens: Token[]): Token[] {
  for (const token of tokens) {
    if (token.type === TokenType.STRING) token.value = token.lexeme.slice(1, -1).replaceAll("''", "'");
  }
  return tokens;
}

/** `steps.<id>` has only outcome, conclusion and outputs; a typo there would silently be null. */
function checkStepsPath(node: Expr, expression: string, tokens: readonly Token[]): void {
  if (!(node instanceof IndexAccess) || !(node.index instanceof Literal)) return;
  const owner = node.expr;
  if (!(owner instanceof IndexAccess) || !(owner.expr instanceof ContextAccess)) return;
  if (owner.expr.name.lexeme.toLowerCase() !== 'steps') return;
  const property = node.index.literal;
  if (property.kind !== data.Kind.String || STEP_PROPERTIES.has(property.value.toLowerCase())) return;
  throw new ExpressionError(
    `steps.<id> has no property '${property.value}'; it has outcome, conclusion and outputs`,
    expression,
    tokenColumn(expression, tokens, node.index.token),
  );
}

/** Evaluates a parsed expression to a plain value. Missing properties are null, as in GitHub. */
export function evaluate(expr: Expr, context: ExpressionContext): unknown {
  return evaluateNamed(expr, expressionSources.get(expr) ?? '', context);
}

/** Evaluates, naming the expression in runtime errors (fromJSON, format, case). */
export function evaluateNamed(expr: Expr, expression: string, context: ExpressionContext): unknown {
  return fromData(evaluateData(expr, expression, context));
}

function evaluateData(expr: Expr, expression: string, context: ExpressionContext): data.ExpressionData {
  const contexts = new data.Dictionary(
    { key: 'env', value: toData(context.env, true) },
    { key: 'matrix', value: toData(context.matrix) },
    { key: 'steps', value: toData(context.steps) },
    { key: 'github', value: toData(context.github ?? {}) },
    { key: 'runner', value: toData(context.runner ?? {}) },
    { key: 'secrets', value: toData(context.secrets ?? {}) },
    { key: 'vars', value: toData(context.vars ?? {}) },
    { key: 'inputs', value: toData(context.inputs ?? {}) },
    { key: 'needs', value: toData(context.needs ?? {}) },
    { key: 'inputs', value: toData(context.inputs ?? {}) },
    { key: 'secrets', value: toData(context.secrets ?? {}) },
    { key: 'jobs', value: toData(context.jobs ?? {}) },
  );
  const functions = statusFunctions(context.jobStatus);
  for (const [name, definition] of WORDED_FUNCTIONS) functions.set(name, definition);
  functions.set('hashfiles', hashFilesFunction(context.fileHashes));
  try {
    return new Evaluator(expr, contexts, functions).evaluate();
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    throw new ExpressionError(runtimeReason(error), expression);
  }
}

/**
 * The arguments of each `hashFiles(…)` call in an expression, evaluated to strings as the
 * runner converts them, so that the files can be hashed before the expression is evaluated.
 */
export function hashFilesArguments(expr: Expr, context: ExpressionContext): string[][] {
  const calls: Expr[][] = [];
  walk(expr, (node) => {
    if (node instanceof FunctionCall && node.functionName.lexeme.toLowerCase() === 'hashfiles')
      calls.push(node.args);
  });
  const expression = expressionSources.get(expr) ?? '';
  return calls.map((args) => args.map((arg) => evaluateData(arg, expression, context).coerceString()));
}

/** An evaluation error already in the project's wording. */
class RuntimeReason extends Error {}

/**
 * The library's functions whose errors do not say enough (which value, how many were given):
 * the same functions, with the project's wording on failure.
 */
const WORDED_FUNCTIONS: ReadonlyMap<string, FunctionDefinition> = new Map([
  worded('format', (message, args) => {
    if (!message.includes('references more arguments')) return undefined;
    const text = args[0]?.coerceString() ?? '';
    const highest = Math.max(...[...text.matchAll(/\{(\d+)\}/g)].map((match) => Number(match[1])));
    return `format(): '${text}' references {${highest}} but only ${args.length - 1} value(s) were given`;
  }),
  worded('fromjson', (message, args, cause) => {
    const detail = cause ?? message;
    return `fromJSON(): the value is not valid JSON (${detail}): '${args[0]?.coerceString() ?? ''}'`;
  }),
]);

function worded(
  name: string,
  reason: (message: string, args: data.ExpressionData[], cause?: string) => string | undefined,
): [string, FunctionDefinition] {
  const library = wellKnownFunctions[name] as FunctionDefinition;
  const call = (...args: data.ExpressionData[]): data.ExpressionData => {
    try {
      return library.call(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
      const worded = reason(message, args, cause);
      throw worded === undefined ? error : new RuntimeReason(worded);
    }
  };
  return [name, { ...library, call }];
}

/** The library's evaluation errors, said with what the user wrote. */
function runtimeReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RuntimeReason) return message;
  // The evaluator wraps what fails inside `[…]`; the inner error is the one to say.
  if (message.startsWith('could not evaluate index') && error instanceof Error && error.cause !== undefined)
    return runtimeReason(error.cause);
  const invalid = /^The following format string is invalid: ([\s\S]*)$/.exec(message);
  if (invalid !== null)
    return `format(): invalid format string '${invalid[1]}' (placeholders are {0}, {1}, …; write {{ and }} for braces)`;
  if (message.startsWith('case predicate')) return 'case(): every condition must be true or false';
  return message;
}

/**
 * The names an expression reads directly under `context` (`secrets.TOKEN`, `secrets['TOKEN']`),
 * as written; a computed name (`secrets[format(...)]`) cannot be known before it runs.
 */
export function namesReadFrom(expr: Expr, context: ContextName): Set<string> {
  const found = new Set<string>();
  walk(expr, (node) => {
    if (!(node instanceof IndexAccess) || !(node.expr instanceof ContextAccess)) return;
    if (node.expr.name.lexeme.toLowerCase() !== context) return;
    const name = node.index instanceof Literal ? node.index.literal : undefined;
    if (name?.kind === data.Kind.String) found.add(name.value);
  });
  return found;
}

/** The contexts an expression reads, e.g. to know whether it can be evaluated before any step ran. */
export function referencedContexts(expr: Expr): Set<string> {
  const found = new Set<string>();
  walk(expr, (node) => {
    if (node instanceof ContextAccess) found.add(node.name.lexeme.toLowerCase());
  });
  return found;
}

export function usesStatusFunction(expr: Expr): boolean {
  let found = false;
  walk(expr, (node) => {
    if (node instanceof FunctionCall && isStatusFunction(node.functionName.lexeme)) found = true;
  });
  return found;
}

function walk(expr: Expr, visit: (node: Expr) => void): void {
  visit(expr);
  const children: Expr[] =
    expr instanceof Binary
      ? [expr.left, expr.right]
      : expr instanceof Unary
        ? [expr.expr]
        : expr instanceof Logical || expr instanceof FunctionCall
          ? expr.args
          : expr instanceof Grouping
            ? [expr.group]
            : expr instanceof IndexAccess
              ? [expr.expr, expr.index]
              : [];
  for (const child of children) walk(child, visit);
}

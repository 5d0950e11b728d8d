/**
 * The GitHub Actions expression language (`${{ … }}`), as documented in "Evaluate expressions in
 * workflows and actions": literals, property access, the comparison and logical operators with
 * GitHub's loose typing, the status functions and the general-purpose functions.
 *
 * Only the contexts that make sense when a workflow job runs step by step through relay-dap are
 * known (`env`, `matrix`, `steps`). Anything else (`github`, `secrets`, `runner`, …) is refused when
 * the expression is parsed, so a workflow that needs it fails at load time with its line, never
 * with a silently empty value.
 */

export type StepOutcome = 'success' | 'failure' | 'cancelled' | 'skipped';
export type JobStatus = 'success' | 'failure' | 'cancelled';

export interface StepContext {
  outcome: StepOutcome;
  conclusion: StepOutcome;
  outputs: Record<string, string>;
}

export interface ExpressionContext {
  env: Record<string, string>;
  matrix: Record<string, unknown>;
  steps: Record<string, StepContext>;
  /** What the status functions see: the job's state before the step being decided. */
  jobStatus: JobStatus;
}

export type ContextName = 'env' | 'matrix' | 'steps';

export const SUPPORTED_CONTEXTS_TEXT =
  'env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>';

/** Contexts GitHub has that relay-dap cannot provide; named so their error says exactly that. */
const UNAVAILABLE_CONTEXTS = new Set([
  'github',
  'secrets',
  'runner',
  'inputs',
  'vars',
  'needs',
  'job',
  'jobs',
  'strategy',
]);

const STEP_PROPERTIES = new Set(['outcome', 'conclusion', 'outputs']);

const STATUS_FUNCTIONS = new Set(['success', 'failure', 'always', 'cancelled']);

/** Canonical (lower-case) name → [min args, max args]. GitHub matches function names case-insensitively. */
const FUNCTION_ARITY: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['success', [0, 0]],
  ['failure', [0, 0]],
  ['always', [0, 0]],
  ['cancelled', [0, 0]],
  ['contains', [2, 2]],
  ['startswith', [2, 2]],
  ['endswith', [2, 2]],
  ['format', [1, 255]],
  ['join', [1, 2]],
  ['tojson', [1, 1]],
  ['fromjson', [1, 1]],
]);

const SUPPORTED_FUNCTIONS_TEXT =
  'success(), failure(), always(), cancelled(), contains, startsWith, endsWith, format, join, toJSON, fromJSON';

// ---------------------------------------------------------------------------------------------
// Errors

export class ExpressionError extends Error {
  constructor(
    /** What is wrong, without the location. */
    readonly reason: string,
    /** The expression as written (inside `${{ }}`, trimmed). */
    readonly expression: string,
    /** 1-based column within `expression`, when the error is at a specific place. */
    readonly column?: number,
    /** 1-based line in the file, once a loader knows it. */
    readonly line?: number,
    readonly file?: string,
    /** Offset of the `${{` within the template text it came from (set by template parsing). */
    readonly templateOffset?: number,
  ) {
    super(describeExpressionError(reason, expression, column, line, file));
    this.name = 'ExpressionError';
  }
}

function describeExpressionError(
  reason: string,
  expression: string,
  column: number | undefined,
  line: number | undefined,
  file: string | undefined,
): string {
  const where =
    file !== undefined && line !== undefined
      ? `${file}:${line}: `
      : line !== undefined
        ? `line ${line}: `
        : file !== undefined
          ? `${file}: `
          : '';
  const at = column !== undefined ? ` at column ${column}` : '';
  return `${where}${reason} (in expression \`${expression}\`${at})`;
}

/** The same error, located at a line of a file: loaders call this so messages name the line. */
export function withLine(error: ExpressionError, line: number, file?: string): ExpressionError {
  return new ExpressionError(
    error.reason,
    error.expression,
    error.column,
    line,
    file ?? error.file,
    error.templateOffset,
  );
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

export type Expr =
  | { kind: 'literal'; value: null | boolean | number | string; column: number }
  | { kind: 'context'; name: ContextName; column: number }
  | { kind: 'index'; object: Expr; index: Expr; column: number }
  | { kind: 'not'; operand: Expr; column: number }
  | {
      kind: 'compare';
      operator: '==' | '!=' | '<' | '<=' | '>' | '>=';
      left: Expr;
      right: Expr;
      column: number;
    }
  | { kind: 'logical'; operator: '&&' | '||'; operands: Expr[]; column: number }
  | { kind: 'call'; name: string; args: Expr[]; column: number };

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenType =
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | '.'
  | '!'
  | '!='
  | '=='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '*'
  | 'number'
  | 'string'
  | 'identifier'
  | 'true'
  | 'false'
  | 'null'
  | 'eof';

interface Token {
  type: TokenType;
  text: string;
  /** 1-based column of the token's first character. */
  column: number;
  value?: number | string;
}

const BOUNDARY_CHARACTERS = new Set(['(', '[', ')', ']', ',', '.', '!', '>', '<', '=', '&', '|']);

function isBoundary(char: string): boolean {
  return BOUNDARY_CHARACTERS.has(char) || /\s/.test(char);
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  const fail = (reason: string, at: number): never => {
    throw new ExpressionError(reason, expression, at + 1);
  };
  const previousType = (): TokenType | undefined => tokens[tokens.length - 1]?.type;
  const push = (type: TokenType, start: number, end: number, value?: number | string): void => {
    tokens.push({ type, text: expression.slice(start, end), column: start + 1, value });
  };
  const readWord = (start: number, allowDot: boolean): number => {
    let end = start;
    while (end < expression.length) {
      const char = expression.charAt(end);
      if (isBoundary(char) && !(allowDot && char === '.')) break;
      end++;
    }
    return end;
  };

  while (offset < expression.length) {
    const char = expression.charAt(offset);
    const next = expression.charAt(offset + 1);
    const start = offset;
    if (/\s/.test(char)) {
      offset++;
      continue;
    }
    switch (char) {
      case '(':
      case ')':
      case '[':
      case ']':
      case ',':
      case '*':
        push(char, start, ++offset);
        continue;
      case '!':
      case '<':
      case '>':
        if (next === '=') {
          offset += 2;
          push(`${char}=` as TokenType, start, offset);
        } else {
          push(char, start, ++offset);
        }
        continue;
      case '=':
        if (next !== '=') fail("unexpected '='; compare with '=='", start);
        offset += 2;
        push('==', start, offset);
        continue;
      case '&':
      case '|':
        if (next !== char) fail(`unexpected '${char}'; the operator is '${char}${char}'`, start);
        offset += 2;
        push(`${char}${char}` as TokenType, start, offset);
        continue;
      case "'": {
        let end = offset + 1;
        let value = '';
        for (;;) {
          if (end >= expression.length) fail('unterminated string literal', start);
          const c = expression.charAt(end);
          if (c === "'") {
            if (expression.charAt(end + 1) === "'") {
              value += "'";
              end += 2;
              continue;
            }
            break;
          }
          value += c;
          end++;
        }
        offset = end + 1;
        push('string', start, offset, value);
        continue;
      }
      default:
        break;
    }
    const previous = previousType();
    const dotStartsNumber =
      char === '.' && previous !== 'identifier' && previous !== ']' && previous !== ')' && previous !== '*';
    if (char === '.' && !dotStartsNumber) {
      push('.', start, ++offset);
      continue;
    }
    if (dotStartsNumber || char === '-' || char === '+' || (char >= '0' && char <= '9')) {
      offset = readWord(start, true);
      const text = expression.slice(start, offset);
      const value = parseNumberText(text);
      if (Number.isNaN(value)) fail(`invalid number '${text}'`, start);
      push('number', start, offset, value);
      continue;
    }
    offset = readWord(start, false);
    const word = expression.slice(start, offset);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(word)) fail(`unexpected symbol '${word}'`, start);
    // After a '.', keywords are plain property names (`matrix.null` is a key called "null").
    if (previous !== '.') {
      if (word === 'true' || word === 'false' || word === 'null') {
        push(word, start, offset);
        continue;
      }
      if (word === 'NaN' || word === 'Infinity') {
        push('number', start, offset, word === 'NaN' ? Number.NaN : Number.POSITIVE_INFINITY);
        continue;
      }
    }
    push('identifier', start, offset, word);
  }
  tokens.push({ type: 'eof', text: '', column: expression.length + 1 });
  return tokens;
}

/**
 * GitHub's string → number conversion (also used for number literals): surrounding whitespace is
 * ignored, '' is 0, decimal with optional sign and exponent, `0x` hex, `0o` octal, ±Infinity;
 * anything else is NaN. JavaScript's Number() is not used as is because it also accepts `0b…`.
 */
export function parseNumberText(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-fA-F]+$/.test(trimmed)) return Number.parseInt(trimmed.slice(2), 16);
  if (/^0o[0-7]+$/.test(trimmed)) return Number.parseInt(trimmed.slice(2), 8);
  if (trimmed === 'Infinity') return Number.POSITIVE_INFINITY;
  if (trimmed === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// Parser (precedence, loosest first: ||, &&, == !=, < <= > >=, !, property access)

class Parser {
  private position = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    if (this.peek().type === 'eof') this.fail('an expression was expected', this.peek());
    const result = this.or();
    if (this.peek().type !== 'eof') this.fail(`unexpected '${this.peek().text}'`, this.peek());
    return result;
  }

  private or(): Expr {
    return this.logical('||', () => this.and());
  }

  private and(): Expr {
    return this.logical('&&', () => this.equality());
  }

  private logical(operator: '&&' | '||', operand: () => Expr): Expr {
    const first = operand();
    if (this.peek().type !== operator) return first;
    const operands = [first];
    while (this.match(operator)) operands.push(operand());
    return { kind: 'logical', operator, operands, column: first.column };
  }

  private equality(): Expr {
    let left = this.comparison();
    for (;;) {
      const token = this.peek();
      if (token.type !== '==' && token.type !== '!=') return left;
      this.position++;
      left = { kind: 'compare', operator: token.type, left, right: this.comparison(), column: token.column };
    }
  }

  private comparison(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (token.type !== '<' && token.type !== '<=' && token.type !== '>' && token.type !== '>=') return left;
      this.position++;
      left = { kind: 'compare', operator: token.type, left, right: this.unary(), column: token.column };
    }
  }

  private unary(): Expr {
    const token = this.peek();
    if (this.match('!')) return { kind: 'not', operand: this.unary(), column: token.column };
    return this.postfix();
  }

  private postfix(): Expr {
    const start = this.peek();
    let expr = this.primary();
    // GitHub allows property access after a context, a function call or a parenthesised group.
    if (expr.kind === 'literal' && start.type !== '(') return expr;
    const path: Array<{ key: string | undefined; column: number }> = [];
    for (;;) {
      const token = this.peek();
      if (this.match('.')) {
        const name = this.peek();
        if (name.type === '*') this.fail("the '.*' filter is not supported here", name);
        if (name.type !== 'identifier') this.fail("a property name was expected after '.'", name);
        this.position++;
        const key = String(name.value);
        expr = {
          kind: 'index',
          object: expr,
          index: { kind: 'literal', value: key, column: name.column },
          column: token.column,
        };
        path.push({ key, column: name.column });
      } else if (this.match('[')) {
        if (this.peek().type === '*') this.fail("the '[*]' filter is not supported here", this.peek());
        const index = this.or();
        this.expect(']', "']' was expected");
        expr = { kind: 'index', object: expr, index, column: token.column };
        path.push({
          key: index.kind === 'literal' && typeof index.value === 'string' ? index.value : undefined,
          column: index.column,
        });
      } else {
        break;
      }
    }
    if (start.type === 'identifier' && String(start.value).toLowerCase() === 'steps')
      this.checkStepsPath(path);
    return expr;
  }

  /** `steps.<id>` has only outcome, conclusion and outputs; a typo there would silently be null. */
  private checkStepsPath(path: Array<{ key: string | undefined; column: number }>): void {
    const property = path[1];
    if (property?.key === undefined) return;
    if (!STEP_PROPERTIES.has(property.key.toLowerCase())) {
      throw new ExpressionError(
        `steps.<id> has no property '${property.key}'; it has outcome, conclusion and outputs`,
        this.expression,
        property.column,
      );
    }
  }

  private primary(): Expr {
    const token = this.peek();
    this.position++;
    switch (token.type) {
      case 'true':
        return { kind: 'literal', value: true, column: token.column };
      case 'false':
        return { kind: 'literal', value: false, column: token.column };
      case 'null':
        return { kind: 'literal', value: null, column: token.column };
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value ?? null, column: token.column };
      case '(': {
        const inner = this.or();
        this.expect(')', "')' was expected");
        return inner;
      }
      case 'identifier':
        return this.peek().type === '(' ? this.call(token) : this.context(token);
      case 'eof':
        this.position--;
        return this.fail('unexpected end of expression', token);
      default:
        this.position--;
        return this.fail(`unexpected '${token.text}'`, token);
    }
  }

  private call(nameToken: Token): Expr {
    const written = String(nameToken.value);
    const name = written.toLowerCase();
    this.position++; // '('
    const args: Expr[] = [];
    if (!this.match(')')) {
      for (;;) {
        args.push(this.or());
        if (this.match(')')) break;
        this.expect(',', "',' or ')' was expected");
      }
    }
    const arity = FUNCTION_ARITY.get(name);
    if (arity === undefined) {
      const reason =
        name === 'hashfiles'
          ? 'hashFiles() is not available when running a workflow step by step through relay-dap'
          : `unknown function '${written}'`;
      this.fail(`${reason}; supported functions: ${SUPPORTED_FUNCTIONS_TEXT}`, nameToken);
    }
    const [min, max] = arity ?? [0, 0];
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : max === 255 ? `at least ${min}` : `${min} to ${max}`;
      this.fail(`${written}() takes ${expected} argument(s), got ${args.length}`, nameToken);
    }
    return { kind: 'call', name, args, column: nameToken.column };
  }

  private context(token: Token): Expr {
    const written = String(token.value);
    const name = written.toLowerCase();
    if (name === 'env' || name === 'matrix' || name === 'steps') {
      return { kind: 'context', name, column: token.column };
    }
    const reason = UNAVAILABLE_CONTEXTS.has(name)
      ? `the '${written}' context is not available when running a workflow step by step through relay-dap`
      : `unknown name '${written}' (not a context relay-dap provides)`;
    return this.fail(`${reason}; supported: ${SUPPORTED_CONTEXTS_TEXT}`, token);
  }

  private peek(): Token {
    // The token list always ends with 'eof' and the parser never moves past it.
    return this.tokens[Math.min(this.position, this.tokens.length - 1)] as Token;
  }

  private match(type: TokenType): boolean {
    if (this.peek().type !== type) return false;
    this.position++;
    return true;
  }

  private expect(type: TokenType, reason: string): void {
    if (!this.match(type)) this.fail(`${reason}, found ${describeToken(this.peek())}`, this.peek());
  }

  private fail(reason: string, token: Token): never {
    throw new ExpressionError(reason, this.expression, token.column);
  }
}

function describeToken(token: Token): string {
  return token.type === 'eof' ? 'the end of the expression' : `'${token.text}'`;
}

/** The text each parsed tree came from, so evaluation errors can name the expression. */
const expressionSources = new WeakMap<Expr, string>();

/** Parses the text inside `${{ }}` (without the wrapper). Throws ExpressionError. */
export function parseExpression(text: string): Expr {
  const expression = text.trim();
  const expr = new Parser(expression, tokenize(expression)).parse();
  expressionSources.set(expr, expression);
  return expr;
}

/** The contexts an expression reads, e.g. to know whether it can be evaluated before any step ran. */
export function referencedContexts(expr: Expr): Set<ContextName> {
  const found = new Set<ContextName>();
  walk(expr, (node) => {
    if (node.kind === 'context') found.add(node.name);
  });
  return found;
}

export function usesStatusFunction(expr: Expr): boolean {
  let found = false;
  walk(expr, (node) => {
    if (node.kind === 'call' && STATUS_FUNCTIONS.has(node.name)) found = true;
  });
  return found;
}

function walk(expr: Expr, visit: (node: Expr) => void): void {
  visit(expr);
  switch (expr.kind) {
    case 'index':
      walk(expr.object, visit);
      walk(expr.index, visit);
      break;
    case 'not':
      walk(expr.operand, visit);
      break;
    case 'compare':
      walk(expr.left, visit);
      walk(expr.right, visit);
      break;
    case 'logical':
      expr.operands.forEach((operand) => walk(operand, visit));
      break;
    case 'call':
      expr.args.forEach((arg) => walk(arg, visit));
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Values: truthiness, coercion, loose equality and ordering

type Primitive = null | boolean | number | string;

function isPrimitive(value: unknown): value is Primitive {
  return value === null || ['boolean', 'number', 'string'].includes(typeof value);
}

/** GitHub's falsy values: false, 0, -0, '', null, NaN. Arrays and objects are truthy. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value !== '';
  return true;
}

function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseNumberText(value);
  return Number.NaN;
}

/** Numbers print with at most 15 significant digits, like the runner (so 0.1 + 0.2 style noise disappears). */
function numberToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return '0';
  return String(Number(value.toPrecision(15)));
}

/**
 * A value as text, the way `${{ }}` substitution shows it: null → '', booleans 'true'/'false',
 * numbers without noise, arrays and objects as (indented) JSON like toJSON().
 */
export function toDisplayString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numberToString(value);
  return toJson(value);
}

function toJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, item: unknown) => normaliseForJson(item), 2);
}

function normaliseForJson(item: unknown): unknown {
  if (item === undefined) return null;
  // JSON has no NaN/Infinity; the runner writes them as numbers it cannot, so strings are the honest choice.
  if (typeof item === 'number' && !Number.isFinite(item)) return numberToString(item);
  return item;
}

/** Mixed kinds are compared as numbers (null → 0, booleans → 0/1, strings parsed, arrays/objects NaN). */
function coerce(left: unknown, right: unknown): [unknown, unknown] {
  const leftKind = kindOf(left);
  const rightKind = kindOf(right);
  if (leftKind === rightKind) return [left, right];
  if (leftKind === 'object' || rightKind === 'object') {
    // Objects are never converted, but null/booleans on the other side are (and still differ in kind).
    return [
      leftKind === 'null' || leftKind === 'boolean' ? toNumber(left) : left,
      rightKind === 'null' || rightKind === 'boolean' ? toNumber(right) : right,
    ];
  }
  return [toNumber(left), toNumber(right)];
}

function kindOf(value: unknown): 'null' | 'boolean' | 'number' | 'string' | 'object' {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'object';
}

/** Loose equality: numbers (NaN equals nothing), strings case-insensitively, objects by identity. */
export function looseEquals(left: unknown, right: unknown): boolean {
  const [a, b] = coerce(left, right);
  if (kindOf(a) !== kindOf(b)) return false;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a.toUpperCase() === b.toUpperCase();
  if (kindOf(a) === 'null') return true;
  return a === b;
}

function looseLessThan(left: unknown, right: unknown): boolean {
  const [a, b] = coerce(left, right);
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  if (typeof a === 'string' && typeof b === 'string') return a.toUpperCase() < b.toUpperCase();
  if (typeof a === 'boolean' && typeof b === 'boolean') return !a && b;
  return false;
}

function looseGreaterThan(left: unknown, right: unknown): boolean {
  const [a, b] = coerce(left, right);
  if (typeof a === 'number' && typeof b === 'number') return a > b;
  if (typeof a === 'string' && typeof b === 'string') return a.toUpperCase() > b.toUpperCase();
  if (typeof a === 'boolean' && typeof b === 'boolean') return a && !b;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Evaluates a parsed expression. Missing properties are null, as in GitHub. */
export function evaluate(expr: Expr, context: ExpressionContext): unknown {
  return new Evaluator(context, expressionSources.get(expr) ?? '').evaluate(expr);
}

class Evaluator {
  constructor(
    private readonly context: ExpressionContext,
    private readonly expression: string,
  ) {}

  evaluate(expr: Expr): unknown {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'context':
        return this.context[expr.name];
      case 'index':
        return this.index(this.evaluate(expr.object), this.evaluate(expr.index));
      case 'not':
        return !isTruthy(this.evaluate(expr.operand));
      case 'compare':
        return this.compare(expr.operator, this.evaluate(expr.left), this.evaluate(expr.right));
      case 'logical':
        return this.logical(expr.operator, expr.operands);
      case 'call':
        return this.call(expr.name, expr.args);
    }
  }

  private index(object: unknown, key: unknown): unknown {
    if (Array.isArray(object)) {
      if (typeof key !== 'number' && typeof key !== 'string') return null;
      const position = typeof key === 'number' ? key : parseNumberText(key);
      if (!Number.isInteger(position) || position < 0 || position >= object.length) return null;
      return (object[position] as unknown) ?? null;
    }
    if (object === null || typeof object !== 'object' || typeof key !== 'string') return null;
    const record = object as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(record, key)) return record[key] ?? null;
    // Linux runners keep env case-sensitive; every other dictionary is case-insensitive in GitHub.
    if (object === this.context.env) return null;
    const lower = key.toLowerCase();
    const match = Object.keys(record).find((candidate) => candidate.toLowerCase() === lower);
    return match === undefined ? null : (record[match] ?? null);
  }

  private compare(operator: '==' | '!=' | '<' | '<=' | '>' | '>=', left: unknown, right: unknown): boolean {
    switch (operator) {
      case '==':
        return looseEquals(left, right);
      case '!=':
        return !looseEquals(left, right);
      case '<':
        return looseLessThan(left, right);
      case '<=':
        return looseEquals(left, right) || looseLessThan(left, right);
      case '>':
        return looseGreaterThan(left, right);
      case '>=':
        return looseEquals(left, right) || looseGreaterThan(left, right);
    }
  }

  /** `&&` / `||` short-circuit and return the deciding operand itself, not a boolean. */
  private logical(operator: '&&' | '||', operands: Expr[]): unknown {
    let result: unknown = null;
    for (const operand of operands) {
      result = this.evaluate(operand);
      if (operator === '&&' ? !isTruthy(result) : isTruthy(result)) break;
    }
    return result;
  }

  private call(name: string, argExprs: Expr[]): unknown {
    const status = this.context.jobStatus;
    switch (name) {
      case 'success':
        return status === 'success';
      case 'failure':
        return status === 'failure';
      case 'cancelled':
        return status === 'cancelled';
      case 'always':
        return true;
      default:
        break;
    }
    const args = argExprs.map((arg) => this.evaluate(arg));
    const [first, second] = args;
    switch (name) {
      case 'contains':
        return contains(first, second);
      case 'startswith':
        return isPrimitive(first) && isPrimitive(second)
          ? toDisplayString(first).toUpperCase().startsWith(toDisplayString(second).toUpperCase())
          : false;
      case 'endswith':
        return isPrimitive(first) && isPrimitive(second)
          ? toDisplayString(first).toUpperCase().endsWith(toDisplayString(second).toUpperCase())
          : false;
      case 'format':
        return this.format(toDisplayString(first), args.slice(1));
      case 'join':
        return join(first, args.length > 1 ? toDisplayString(second) : ',');
      case 'tojson':
        return toJson(first);
      case 'fromjson':
        return this.fromJson(first);
      default:
        throw new ExpressionError(`unknown function '${name}'`, this.expression);
    }
  }

  /** `{N}` placeholders; `{{` and `}}` are literal braces. */
  private format(template: string, values: unknown[]): string {
    let result = '';
    let index = 0;
    while (index < template.length) {
      const char = template.charAt(index);
      if (char === '{' && template.charAt(index + 1) === '{') {
        result += '{';
        index += 2;
      } else if (char === '}' && template.charAt(index + 1) === '}') {
        result += '}';
        index += 2;
      } else if (char === '{') {
        const placeholder = /^\{(\d+)\}/.exec(template.slice(index));
        if (placeholder === null) {
          throw new ExpressionError(`format(): invalid format string '${template}'`, this.expression);
        }
        const position = Number(placeholder[1]);
        if (position >= values.length) {
          throw new ExpressionError(
            `format(): '${template}' references {${position}} but only ${values.length} value(s) were given`,
            this.expression,
          );
        }
        result += toDisplayString(values[position]);
        index += placeholder[0].length;
      } else if (char === '}') {
        throw new ExpressionError(
          `format(): invalid format string '${template}' (write '}}' for a literal brace)`,
          this.expression,
        );
      } else {
        result += char;
        index++;
      }
    }
    return result;
  }

  private fromJson(value: unknown): unknown {
    const text = toDisplayString(value);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ExpressionError(
        `fromJSON(): the value is not valid JSON (${detail}): '${text}'`,
        this.expression,
      );
    }
  }
}

function contains(search: unknown, item: unknown): boolean {
  if (Array.isArray(search)) return search.some((element) => looseEquals(element, item));
  if (!isPrimitive(search) || !isPrimitive(item)) return false;
  return toDisplayString(search).toUpperCase().includes(toDisplayString(item).toUpperCase());
}

function join(value: unknown, separator: string): string {
  if (Array.isArray(value)) {
    return value.map((element) => (isPrimitive(element) ? toDisplayString(element) : '')).join(separator);
  }
  return isPrimitive(value) ? toDisplayString(value) : '';
}

/** Evaluates, naming the expression in runtime errors (fromJSON, format). */
function evaluateNamed(expr: Expr, expression: string, context: ExpressionContext): unknown {
  return new Evaluator(context, expression).evaluate(expr);
}

// ---------------------------------------------------------------------------------------------
// Templates: text holding `${{ … }}`

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
export function parseTemplate(text: string): TemplatePart[] {
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
      parts.push({ kind: 'expression', source, expr: parseExpression(source), offset: open });
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

// ---------------------------------------------------------------------------------------------
// `if:` conditions

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

/** Parses an `if:` value; the `${{ }}` wrapper is optional. Throws ExpressionError. */
export function parseCondition(ifText: string): ParsedCondition {
  const text = ifText.trim();
  if (text === '') {
    return {
      text: ifText,
      body: { kind: 'expression', source: 'success()', expr: parseExpression('success()') },
      implicitSuccess: false,
    };
  }
  if (!hasExpressions(text)) {
    const expr = parseExpression(text);
    return {
      text: ifText,
      body: { kind: 'expression', source: text, expr },
      implicitSuccess: !usesStatusFunction(expr),
    };
  }
  const parts = parseTemplate(text);
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

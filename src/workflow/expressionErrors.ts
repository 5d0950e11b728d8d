/**
 * The one error type of the expression language, and how the library's errors become it: every
 * message names what is wrong, the expression as written and the column (and, once a loader
 * knows them, the file and line), so a workflow that cannot load says where and why in one line.
 */
import { ErrorType, ExpressionError as LibraryError } from '@actions/expressions/errors';
import { type Token, TokenType } from '@actions/expressions/lexer';

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

/** What the project says instead of the library's terse "Unrecognized named-value" & co. */
export interface ErrorWording {
  unknownContext(name: string): string;
  unknownFunction(name: string): string;
  /** A call with a number of arguments the function does not take. */
  arity(name: string, got: number): string;
}

/**
 * 1-based column of a token within the whole (possibly multi-line) expression. Found from the
 * tokens' own text, in order, rather than from the lexer's line/column, which a string literal
 * spanning lines leaves off.
 */
export function tokenColumn(expression: string, tokens: readonly Token[], token: Token): number {
  let cursor = 0;
  for (const current of tokens) {
    if (current.type === TokenType.EOF) break;
    const start = expression.indexOf(current.lexeme, cursor);
    if (current === token) return start + 1;
    cursor = start + current.lexeme.length;
  }
  return expression.length + 1;
}

/**
 * The lexer throws plain Errors ("Unexpected symbol: 'x'. Located at position N within
 * expression: …"); they become the project's wording, at the same column.
 */
export function fromLexerError(error: unknown, expression: string): ExpressionError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.message === 'ErrorExceededMaxLength')
    return new ExpressionError('the expression is longer than 21000 characters', expression);
  const match = /^Unexpected symbol: '([\s\S]*)'\. Located at position (\d+) within expression/.exec(
    error.message,
  );
  if (match === null) return undefined;
  const [, symbol = '', position = '1'] = match;
  return new ExpressionError(lexerReason(symbol), expression, Number(position));
}

function lexerReason(symbol: string): string {
  if (symbol.startsWith("'")) return 'unterminated string literal';
  if (symbol.startsWith('=')) return "unexpected '='; compare with '=='";
  if (symbol.startsWith('&') || symbol.startsWith('|'))
    return `unexpected '${symbol.charAt(0)}'; the operator is '${symbol.charAt(0).repeat(2)}'`;
  if (/^[-+.\d]/.test(symbol)) return `invalid number '${symbol}'`;
  return `unexpected symbol '${symbol}'`;
}

/** The parser's errors (a token and a kind) in the project's wording. */
export function fromParserError(
  error: unknown,
  expression: string,
  tokens: Token[],
  wording: ErrorWording,
): ExpressionError | undefined {
  if (!(error instanceof LibraryError)) return undefined;
  // Private in its declaration, public at run time: the kind and the token are the error.
  const { tok: token, typ: kind } = error as unknown as { tok: Token; typ: ErrorType };
  const at = (reason: string, column = tokenColumn(expression, tokens, token)): ExpressionError =>
    new ExpressionError(reason, expression, column);
  const end = expression.length + 1;
  switch (kind) {
    case ErrorType.ErrorUnrecognizedContext:
    case ErrorType.ErrorUnrecognizedNamedValue:
      return at(wording.unknownContext(token.lexeme));
    case ErrorType.ErrorUnrecognizedFunction:
      return at(wording.unknownFunction(token.lexeme));
    case ErrorType.ErrorTooFewParameters:
    case ErrorType.ErrorTooManyParameters:
    case ErrorType.ErrorEvenParameters:
      return at(wording.arity(token.lexeme, countArguments(tokens, token)));
    case ErrorType.ErrorExceededMaxDepth:
      return at('the expression nests more than 50 levels deep');
    case ErrorType.ErrorUnexpectedEndOfExpression:
      return at(unclosed(tokens) ?? 'unexpected end of expression', end);
    default:
      break;
  }
  const atEnd = token.type === TokenType.EOF;
  const previous = tokens[atEnd ? tokens.length - 2 : tokens.indexOf(token) - 1];
  const column = atEnd ? end : tokenColumn(expression, tokens, token);
  if (previous?.type === TokenType.DOT) return at("a property name was expected after '.'", column);
  if (!atEnd) return at(`unexpected '${token.lexeme}'`);
  return at(unclosed(tokens) ?? 'unexpected end of expression', end);
}

/** What the end of the expression leaves open: the innermost unclosed call, group or index. */
function unclosed(tokens: Token[]): string | undefined {
  const open: string[] = [];
  tokens.forEach((token, index) => {
    if (token.type === TokenType.LEFT_PAREN)
      open.push(tokens[index - 1]?.type === TokenType.IDENTIFIER ? "',' or ')'" : "')'");
    else if (token.type === TokenType.LEFT_BRACKET) open.push("']'");
    else if (token.type === TokenType.RIGHT_PAREN || token.type === TokenType.RIGHT_BRACKET) open.pop();
  });
  const expected = open.pop();
  return expected === undefined ? undefined : `${expected} was expected, found the end of the expression`;
}

/** The number of arguments of the call named by `name` (the library's error does not say). */
function countArguments(tokens: Token[], name: Token): number {
  let index = tokens.indexOf(name) + 2;
  if (tokens[index]?.type === TokenType.RIGHT_PAREN) return 0;
  let depth = 0;
  let count = 1;
  for (; index < tokens.length; index++) {
    const type = tokens[index]?.type;
    if (type === TokenType.LEFT_PAREN || type === TokenType.LEFT_BRACKET) depth++;
    else if (type === TokenType.RIGHT_PAREN || type === TokenType.RIGHT_BRACKET) {
      if (depth === 0) break;
      depth--;
    } else if (type === TokenType.COMMA && depth === 0) count++;
  }
  return count;
}

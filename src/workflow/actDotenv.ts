/**
 * The dotenv format of act's `.secrets`, `.vars` and `.input` files, read exactly as act reads
 * them: act parses these files with joho/godotenv v1.5.1 (`godotenv.Read`), and this is that
 * parser's behaviour, so a file that works with act gives the same values here.
 *
 * Not the `dotenv` npm package, because its format differs where secrets live: it cuts an
 * unquoted value at any `#` (godotenv only at ` #`, so `PASS=a#b` keeps `a#b`), and it expands
 * neither `$NAME`/`${NAME}` (godotenv does, from the names defined above in the same file, in
 * unquoted and double-quoted values) nor escapes other than `\n` and `\r`.
 *
 * The rules (godotenv v1.5.1 parser.go): `\r\n` is `\n`; blank lines and lines starting with
 * `#` are skipped; `export ` before a name is ignored; `NAME=value` or `NAME: value`, names of
 * letters, digits, `_` and `.`; an unquoted value runs to the end of the line, is cut at the
 * last ` #`, trimmed, and `$NAME`, `${NAME}` are expanded (`\$` keeps a `$`); a single-quoted
 * value is literal and may span lines; a double-quoted value may span lines, `\n` and `\r`
 * become a newline and a carriage return, a backslash before any other character but `$` is
 * dropped, then names are expanded. A name without a value, or an unterminated quote, is an
 * error (godotenv's own wording is kept out: it would quote the value, which may be a secret).
 */

export class DotenvError extends Error {
  constructor(
    /** 1-based line of the file where the statement starts. */
    readonly line: number,
    /** What is wrong, without any value from the file (it may be a secret). */
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'DotenvError';
  }
}

/** godotenv's isSpace: blanks but not line ends. */
function isSpace(char: string | undefined): boolean {
  return char !== undefined && '\t\v\f\r \u0085\u00a0'.includes(char);
}

/** Go's unicode.IsSpace, which getStatementStart uses (line ends included). */
function isAnySpace(char: string | undefined): boolean {
  return char !== undefined && /\s|\u0085/u.test(char);
}

const EXPAND = /(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?/g;

function expandVariables(value: string, defined: Record<string, string>): string {
  return value.replace(
    EXPAND,
    (match: string, backslash?: string, _dollar?: string, _paren?: string, name?: string) => {
      if (backslash === '\\') return match.slice(1);
      if (name !== undefined && name !== '') return Object.hasOwn(defined, name) ? (defined[name] ?? '') : '';
      return match;
    },
  );
}

function expandEscapes(value: string): string {
  const escaped = value.replace(/\\./g, (match) => (match === '\\n' ? '\n' : match === '\\r' ? '\r' : match));
  return escaped.replace(/\\([^$])/g, '$1');
}

/** NAME → value from the text of an act dotenv file; a later NAME wins. */
export function parseActDotenv(source: string): Record<string, string> {
  const text = source.replaceAll('\r\n', '\n');
  const out: Record<string, string> = {};
  const lineAt = (index: number): number => text.slice(0, index).split('\n').length;
  let at = 0;
  for (;;) {
    // getStatementStart: skip blanks and comment lines.
    while (at < text.length && isAnySpace(text[at])) at++;
    if (at >= text.length) break;
    if (text[at] === '#') {
      const newline = text.indexOf('\n', at);
      if (newline < 0) break;
      at = newline;
      continue;
    }
    const statement = at;
    // locateKeyName
    if (text.startsWith('export', at) && isSpace(text[at + 'export'.length])) {
      at += 'export'.length;
      while (isSpace(text[at])) at++;
    }
    const nameStart = at;
    let separator = -1;
    for (; at < text.length; at++) {
      const char = text[at] ?? '';
      if (isSpace(char)) continue;
      if (char === '=' || char === ':') {
        separator = at;
        break;
      }
      if (char === '_' || char === '.' || /[\p{L}\p{N}]/u.test(char)) continue;
      throw new DotenvError(
        lineAt(statement),
        char === '\n'
          ? 'a name without "=": write NAME=value'
          : `unexpected character ${JSON.stringify(char)} in a name: names are letters, digits, _ and .`,
      );
    }
    if (separator < 0) throw new DotenvError(lineAt(statement), 'a name without "=": write NAME=value');
    const name = text.slice(nameStart, separator).replace(/[\t\v\f\r \u0085\u00a0]+$/, '');
    at = separator + 1;
    while (isSpace(text[at])) at++;
    // extractVarValue
    const quote = text[at];
    if (quote === '"' || quote === "'") {
      let end = -1;
      for (let i = at + 1; i < text.length; i++) {
        if (text[i] === quote && text[i - 1] !== '\\') {
          end = i;
          break;
        }
      }
      if (end < 0) {
        throw new DotenvError(
          lineAt(statement),
          `the value of ${name} has no closing ${quote}: close the quote`,
        );
      }
      // godotenv trims every quote character at both ends, not just one.
      let value = text.slice(at, end);
      while (value.startsWith(quote)) value = value.slice(1);
      while (value.endsWith(quote)) value = value.slice(0, -1);
      out[name] = quote === '"' ? expandVariables(expandEscapes(value), out) : value;
      at = end + 1;
      continue;
    }
    let lineEnd = at;
    while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd++;
    const line = [...text.slice(at, lineEnd)];
    let valueEnd = line.length;
    for (let i = line.length - 1; i > 0; i--) {
      if (line[i] === '#' && isSpace(line[i - 1])) {
        valueEnd = i;
        break;
      }
    }
    let value = line.slice(0, valueEnd).join('');
    while (isSpace(value[0])) value = value.slice(1);
    while (isSpace(value[value.length - 1])) value = value.slice(0, -1);
    out[name] = expandVariables(value, out);
    at = lineEnd;
  }
  return out;
}

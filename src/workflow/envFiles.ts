/**
 * What a step wrote to the files GitHub's runner hands it: `GITHUB_ENV` and `GITHUB_OUTPUT`
 * (`NAME=value` lines and `NAME<<DELIMITER` … `DELIMITER` blocks) and `GITHUB_PATH` (one
 * directory per line). The rules follow the Linux runner's file-command parser: lines end at
 * `\n` only, empty lines are skipped, the first `=` or `<<` (whichever comes first) splits a line,
 * and a heredoc value is the text between the opening and the closing delimiter lines, without
 * the final newline.
 */

export type EnvFileKind = 'GITHUB_ENV' | 'GITHUB_OUTPUT' | 'GITHUB_STATE';

export class EnvFileError extends Error {
  constructor(
    readonly kind: EnvFileKind,
    /** 1-based line in the file the step wrote. */
    readonly line: number,
    message: string,
  ) {
    super(`${kind} line ${line}: ${message}`);
    this.name = 'EnvFileError';
  }
}

/** Parses GITHUB_ENV / GITHUB_OUTPUT text into name → value (a later assignment wins). */
export function parseEnvFile(text: string, kind: EnvFileKind): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  // A trailing newline leaves one empty last element, which is not a line of its own.
  if (lines[lines.length - 1] === '') lines.pop();
  let index = 0;
  while (index < lines.length) {
    const lineNumber = index + 1;
    const line = lines[index++] ?? '';
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === '') {
        throw new EnvFileError(kind, lineNumber, `'${line}' has no name before '='; write NAME=value`);
      }
      values[name] = line.slice(equals + 1);
      continue;
    }
    if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (name === '' || delimiter === '') {
        throw new EnvFileError(
          kind,
          lineNumber,
          `'${line}' needs a name and a delimiter: write NAME<<DELIMITER, the value's lines, then DELIMITER alone on a line`,
        );
      }
      const valueLines: string[] = [];
      for (;;) {
        if (index >= lines.length) {
          throw new EnvFileError(
            kind,
            lineNumber,
            `the value of '${name}' is never closed: no line holding exactly '${delimiter}' follows`,
          );
        }
        const valueLine = lines[index++] ?? '';
        if (valueLine === delimiter) break;
        valueLines.push(valueLine);
      }
      values[name] = valueLines.join('\n');
      continue;
    }
    throw new EnvFileError(kind, lineNumber, `'${line}' is neither NAME=value nor NAME<<DELIMITER`);
  }
  return values;
}

/** The directories a step appended to GITHUB_PATH, in the order written (empty lines skipped). */
export function parsePathFile(text: string): string[] {
  // The runner reads this file with ReadAllLines, which also splits at \r\n and \r.
  return text.split(/\r\n|\r|\n/).filter((line) => line !== '');
}

/**
 * The job's list of added directories after a step's GITHUB_PATH lines: like the runner, a
 * directory added again moves to the end (it becomes the most recent one).
 */
export function addPathEntries(current: readonly string[], added: readonly string[]): string[] {
  const result = [...current];
  for (const directory of added) {
    const existing = result.indexOf(directory);
    if (existing >= 0) result.splice(existing, 1);
    result.push(directory);
  }
  return result;
}

/**
 * The PATH a later step sees: the most recently added directory first (so a later GITHUB_PATH
 * line wins over an earlier one), then the original PATH.
 */
export function composePath(added: readonly string[], basePath: string): string {
  const prefix = [...added].reverse().join(':');
  if (prefix === '') return basePath;
  return basePath === '' ? prefix : `${prefix}:${basePath}`;
}

/**
 * Quoting for bash: the one way this project turns a value into shell text. Single quotes
 * keep every byte literal except `'` itself, which is written as `'\''`.
 *
 * It lives with the workflow's shells because this is the lowest layer that writes shell text
 * (a step's script); the job layer (a command's prelude) and `relay-dap run -- WORDS` sit above.
 */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Several words as one command line that bash splits back into exactly these words. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

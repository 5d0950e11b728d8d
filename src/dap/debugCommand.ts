/**
 * `!debug python script.py ARGS…` (or `python3`, `python -m module`) in the debug console:
 * what to run under debugpy (its command line: programText in job/debugpyAdapter.ts).
 */
import type { DebugTarget } from '../job/debugpyAdapter.js';

export type { DebugTarget };

/** Words of console text, split as a shell would for plain words and '…' / "…" quotes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|((?:[^\s"'\\]|\\.)+)|(\s+)/g;
  let current: string | undefined;
  for (const match of text.matchAll(pattern)) {
    if (match[4] !== undefined) {
      if (current !== undefined) words.push(current);
      current = undefined;
      continue;
    }
    const part =
      match[1] !== undefined
        ? match[1].replace(/\\(["\\$`])/g, '$1')
        : (match[2] ?? match[3]!.replace(/\\(.)/g, '$1'));
    current = (current ?? '') + part;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/**
 * The target of `debug …` (the text after `!`), undefined when the text is not a `debug`
 * command; throws a one-line usage error when it is one that cannot be debugged.
 */
export function parseDebugCommand(shell: string): DebugTarget | undefined {
  const words = splitWords(shell.trim());
  if (words[0] !== 'debug') return undefined;
  const usage =
    'usage: !debug python SCRIPT.py ARGS… or !debug python -m MODULE ARGS… (python3 and a path to python work too)';
  const python = words[1];
  if (python === undefined || !/(^|\/)python(\d+(\.\d+)?)?$/.test(python))
    throw new Error(`!debug runs a Python program under debugpy: ${usage}`);
  if (words[2] === '-m') {
    const module = words[3];
    if (module === undefined) throw new Error(`!debug: -m needs a module name: ${usage}`);
    return { python, target: { module }, args: words.slice(4) };
  }
  const program = words[2];
  if (program === undefined || program.startsWith('-'))
    throw new Error(`!debug: name the script to debug (interpreter options are not supported): ${usage}`);
  return { python, target: { program }, args: words.slice(3) };
}

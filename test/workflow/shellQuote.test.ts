// shellQuote/shellJoin: the one way this project turns values into bash text. Each case is
// checked by a real bash, which must split the text back into exactly the same words.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../src/workflow/shellQuote.js';

/** The words bash makes of `printf '%s\0' <text>`: one NUL-terminated string per word. */
function bashWords(text: string): string[] {
  const result = spawnSync('bash', ['-c', `printf '%s\\0' ${text}`], { encoding: 'buffer' });
  expect(result.status, result.stderr.toString()).toBe(0);
  const out = result.stdout.toString('utf8');
  expect(out.endsWith('\0')).toBe(true);
  return out.slice(0, -1).split('\0');
}

const TRICKY: Array<[string, string]> = [
  ['', 'the empty string'],
  ['plain', 'a plain word'],
  ['a   b', 'spaces'],
  ['\ttab', 'a tab'],
  ["it's", 'a single quote'],
  ["'", 'a lone single quote'],
  ["''", 'two single quotes'],
  ['"double"', 'double quotes'],
  ['"', 'a lone double quote'],
  ['a\nb', 'a newline'],
  ['\n', 'only a newline'],
  ['trailing\n\n', 'trailing newlines'],
  ['\r\n', 'CR LF'],
  ['$HOME', 'a variable'],
  ['${HOME}', 'a braced variable'],
  ['$(id)', 'a command substitution'],
  ['`id`', 'backticks'],
  ['$((1+1))', 'arithmetic'],
  ['\\', 'a backslash'],
  ['a\\nb', 'a backslash-n'],
  ['!', 'history expansion'],
  ['!!', 'double bang'],
  ['*', 'a glob'],
  ['?', 'a one-character glob'],
  ['[a]', 'a bracket glob'],
  ['{a,b}', 'brace expansion'],
  ['~', 'a tilde'],
  ['~root', 'a user tilde'],
  ['#not a comment', 'a hash'],
  [';', 'a semicolon'],
  ['&&', 'and-and'],
  ['|', 'a pipe'],
  ['>out', 'a redirection'],
  ['<in', 'an input redirection'],
  ['a=b', 'an assignment-looking word'],
  ['-n', 'a leading dash'],
  ['--', 'a double dash'],
  ['-', 'a lone dash'],
  ['-e\\n', 'an echo option with an escape'],
  ['café', 'non-ASCII (Latin)'],
  ['中文', 'non-ASCII (CJK)'],
  ['🎉', 'an emoji'],
  ['\u00a0', 'a no-break space'],
  ['\u001b[31m', 'an escape sequence'],
  ['%s%d', 'printf directives'],
  ['a\'b"c$d`e\\f', 'everything at once'],
];

describe('shellQuote round-trips through bash', () => {
  for (const [word, why] of TRICKY) {
    it(why, () => {
      expect(bashWords(shellQuote(word))).toEqual([word]);
    });
  }

  it('all of them at once, as one command line (shellJoin)', () => {
    const words = TRICKY.map(([word]) => word);
    expect(bashWords(shellJoin(words))).toEqual(words);
  });

  it('a long word with many quotes', () => {
    const word = `'x'`.repeat(5000) + '\n$`';
    expect(bashWords(shellQuote(word))).toEqual([word]);
  });
});

describe('shellQuote output', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('ls')).toBe('ls');
    expect(shellQuote('-la')).toBe('-la');
    expect(shellQuote('/usr/bin/env')).toBe('/usr/bin/env');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('shellJoin separates words with single spaces', () => {
    expect(shellJoin(['printf', '%s\\n', 'a   b'])).toBe("printf '%s\\n' 'a   b'");
    expect(shellJoin([])).toBe('');
  });
});

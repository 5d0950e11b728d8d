/**
 * The expected values are what act's parser (joho/godotenv v1.5.1, which act pins) gives for
 * the same text; where the `dotenv` npm package differs, the test says so.
 */
import { describe, expect, it } from 'vitest';
import { DotenvError, parseActDotenv } from '../../src/workflow/actDotenv.js';

describe('parseActDotenv', () => {
  it.each([
    ['FOO=bar', 'bar'],
    ['FOO =bar', 'bar'],
    ['FOO= bar ', 'bar'],
    ['FOO: bar', 'bar'],
    ['FOO=a=b:c', 'a=b:c'],
    ['export FOO=2', '2'],
    ['\t export\tFOO=2', '2'],
    ['FOO="bar"', 'bar'],
    ["FOO='bar'", 'bar'],
    ['FOO="escaped\\"quote"', 'escaped"quote'],
    ['FOO="\'inner\'"', "'inner'"],
    ["FOO='\\n stays'", '\\n stays'],
    ['FOO="two\\nlines"', 'two\nlines'],
    ['FOO="bar\\n\\ b\\az"', 'bar\n baz'],
    ['FOO="bar\\\\\\n\\ b\\az"', 'bar\\\n baz'],
    ['FOO=value value', 'value value'],
    ['FOO=bar # a comment', 'bar'],
    ['FOO=bar # one # two', 'bar # one'],
    // dotenv (npm) would give "pa": act keeps a # that no blank precedes.
    ['FOO=pa#ss', 'pa#ss'],
    ['FOO="bar#baz" # comment', 'bar#baz'],
    ["FOO='b#r'", 'b#r'],
    ['FOO=', ''],
    ['FOO=""', ''],
  ])('%s → %s', (line, value) => {
    expect(parseActDotenv(line)).toEqual({ FOO: value });
  });

  it('skips comments and blank lines, reads CRLF files, and lets a later name win', () => {
    const text = '# secrets for act\r\n\r\nA=1\r\n  # indented comment\r\nB=two\r\nA=3\r\n';
    expect(parseActDotenv(text)).toEqual({ A: '3', B: 'two' });
  });

  it('reads quoted values over several lines', () => {
    const key = "KEY='-----BEGIN KEY-----\nabc\n-----END KEY-----'\nNEXT=1\n";
    expect(parseActDotenv(key)).toEqual({ KEY: '-----BEGIN KEY-----\nabc\n-----END KEY-----', NEXT: '1' });
    expect(parseActDotenv('D="a\nb"')).toEqual({ D: 'a\nb' });
  });

  it('expands names defined above in unquoted and double-quoted values, not in single-quoted ones', () => {
    // dotenv (npm) expands nothing: "${USER_ID}" would stay as written.
    const text = [
      'USER_ID=42',
      'A=${USER_ID}',
      'B=$USER_ID/x',
      'C="id=${USER_ID}"',
      "D='${USER_ID}'",
      'E=\\${USER_ID}',
      'F=${LATER}',
      'G=cost$',
      'LATER=1',
    ].join('\n');
    expect(parseActDotenv(text)).toEqual({
      USER_ID: '42',
      A: '42',
      B: '42/x',
      C: 'id=42',
      D: '${USER_ID}',
      E: '${USER_ID}',
      F: '',
      G: 'cost$',
      LATER: '1',
    });
  });

  it('says which line is wrong, without the value', () => {
    expect(() => parseActDotenv('A=1\nB="open\n')).toThrow(
      new DotenvError(2, 'the value of B has no closing ": close the quote'),
    );
    expect(() => parseActDotenv('A=1\nJUSTANAME\nC=3')).toThrow(
      new DotenvError(2, 'a name without "=": write NAME=value'),
    );
    expect(() => parseActDotenv('A=1\nB-C=x')).toThrow(/^line 2: unexpected character "-" in a name/);
  });
});

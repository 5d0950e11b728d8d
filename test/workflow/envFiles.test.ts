import { describe, expect, it } from 'vitest';
import {
  addPathEntries,
  composePath,
  EnvFileError,
  parseEnvFile,
  parsePathFile,
} from '../../src/workflow/envFiles.js';

describe('parseEnvFile', () => {
  it('reads NAME=value lines, splitting at the first =', () => {
    expect(parseEnvFile('A=1\nB=x=y\nC=\n', 'GITHUB_ENV')).toEqual({ A: '1', B: 'x=y', C: '' });
  });

  it('keeps spaces and quotes exactly as written', () => {
    expect(parseEnvFile('GREETING= hello world \nQ="quoted"\n', 'GITHUB_ENV')).toEqual({
      GREETING: ' hello world ',
      Q: '"quoted"',
    });
  });

  it('skips empty lines and lets a later assignment win', () => {
    expect(parseEnvFile('\nA=1\n\nA=2\n', 'GITHUB_OUTPUT')).toEqual({ A: '2' });
    expect(parseEnvFile('', 'GITHUB_OUTPUT')).toEqual({});
  });

  it('reads a heredoc value without its final newline', () => {
    const text = 'notes<<EOF\nfirst line\nsecond line\nEOF\nafter=1\n';
    expect(parseEnvFile(text, 'GITHUB_OUTPUT')).toEqual({ notes: 'first line\nsecond line', after: '1' });
  });

  it('keeps lines inside a heredoc that look like assignments or other delimiters', () => {
    const text = 'JSON<<ghadelimiter_123\n{\n  "a": "b=c"\n}\nEOF\n\nghadelimiter_123';
    expect(parseEnvFile(text, 'GITHUB_ENV')).toEqual({ JSON: '{\n  "a": "b=c"\n}\nEOF\n' });
  });

  it('reads an empty heredoc value', () => {
    expect(parseEnvFile('E<<X\nX\n', 'GITHUB_ENV')).toEqual({ E: '' });
    expect(parseEnvFile('E<<X\n\nX\n', 'GITHUB_ENV')).toEqual({ E: '' });
    expect(parseEnvFile('E<<X\n\n\nX\n', 'GITHUB_ENV')).toEqual({ E: '\n' });
  });

  it('uses whichever of = and << comes first', () => {
    expect(parseEnvFile('A=x<<y\n', 'GITHUB_ENV')).toEqual({ A: 'x<<y' });
    expect(parseEnvFile('A<<=\nv\n=\n', 'GITHUB_ENV')).toEqual({ A: 'v' });
  });

  it('keeps a carriage return, as the Linux runner does', () => {
    expect(parseEnvFile('A=1\r\n', 'GITHUB_ENV')).toEqual({ A: '1\r' });
  });

  it('refuses a heredoc whose closing delimiter never comes', () => {
    const parse = (): unknown => parseEnvFile('A=1\nnotes<<EOF\nline\nEOF \n', 'GITHUB_OUTPUT');
    expect(parse).toThrow(EnvFileError);
    expect(parse).toThrow(
      "GITHUB_OUTPUT line 2: the value of 'notes' is never closed: no line holding exactly 'EOF' follows",
    );
  });

  it('refuses a line that is neither form, or lacks a name or delimiter', () => {
    expect(() => parseEnvFile('just text\n', 'GITHUB_ENV')).toThrow(
      "GITHUB_ENV line 1: 'just text' is neither NAME=value nor NAME<<DELIMITER",
    );
    expect(() => parseEnvFile('=value\n', 'GITHUB_ENV')).toThrow(
      "GITHUB_ENV line 1: '=value' has no name before '='",
    );
    expect(() => parseEnvFile('A=1\nNAME<<\n', 'GITHUB_ENV')).toThrow(
      /GITHUB_ENV line 2: 'NAME<<' needs a name and a delimiter/,
    );
    expect(() => parseEnvFile('<<EOF\nEOF\n', 'GITHUB_ENV')).toThrow(/line 1: '<<EOF' needs a name/);
  });
});

describe('GITHUB_PATH', () => {
  it('reads one directory per line, skipping empty lines', () => {
    expect(parsePathFile('/opt/a/bin\n\n/opt/b bin\r\n/opt/c\n')).toEqual([
      '/opt/a/bin',
      '/opt/b bin',
      '/opt/c',
    ]);
    expect(parsePathFile('')).toEqual([]);
  });

  it('puts later lines (and later steps) first in PATH', () => {
    const afterFirstStep = addPathEntries([], ['/one', '/two']);
    expect(composePath(afterFirstStep, '/usr/bin:/bin')).toBe('/two:/one:/usr/bin:/bin');
    const afterSecondStep = addPathEntries(afterFirstStep, ['/three']);
    expect(composePath(afterSecondStep, '/usr/bin')).toBe('/three:/two:/one:/usr/bin');
  });

  it('moves a directory added again to the front, without duplicating it', () => {
    const entries = addPathEntries(['/one', '/two'], ['/one']);
    expect(entries).toEqual(['/two', '/one']);
    expect(composePath(entries, '/bin')).toBe('/one:/two:/bin');
  });

  it('leaves PATH alone when nothing was added', () => {
    expect(composePath([], '/usr/bin')).toBe('/usr/bin');
    expect(composePath(['/x'], '')).toBe('/x');
  });
});

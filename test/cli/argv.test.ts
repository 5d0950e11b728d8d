// parseArgs and its helpers, with specs shaped like the real ones (see src/cli/main.ts and
// relayCommands.ts). Pure functions: no processes needed.
import { describe, expect, it } from 'vitest';
import {
  formatOptions,
  optionFlag,
  optionNumber,
  optionString,
  parseArgs,
  UsageError,
  type OptionSpec,
  type ParsedArgs,
} from '../../src/cli/argv.js';

const GLOBAL: OptionSpec[] = [
  { name: 'help', description: 'help' },
  { name: 'version', description: 'version' },
];
const RELAY_DIR: OptionSpec = { name: 'relay-dir', value: 'DIR', description: 'relay directory' };
const SPECS: Record<string, OptionSpec[]> = {
  run: [
    RELAY_DIR,
    { name: 'timeout', value: 'S', description: 'seconds' },
    { name: 'lease', description: 'lease' },
  ],
  status: [RELAY_DIR, { name: 'json', description: 'json' }],
  serve: [
    RELAY_DIR,
    { name: 'grace', value: 'S', description: 'grace' },
    { name: 'log-commands', description: 'log' },
  ],
};
const COMMANDS = new Set(Object.keys(SPECS));

function parse(...argv: string[]): ParsedArgs {
  return parseArgs(
    argv,
    COMMANDS,
    (command) => [...GLOBAL, ...(command === undefined ? [] : (SPECS[command] ?? []))],
    (command) => command === 'run',
  );
}

function usageError(...argv: string[]): UsageError {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`parse(${JSON.stringify(argv)}) did not fail`);
}

describe('parseArgs', () => {
  it('takes --x=v and --x v alike', () => {
    for (const argv of [
      ['status', '--relay-dir=/r'],
      ['status', '--relay-dir', '/r'],
    ]) {
      const args = parse(...argv);
      expect(args.command).toBe('status');
      expect(optionString(args, 'relay-dir')).toBe('/r');
      expect(args.positionals).toEqual([]);
    }
  });

  it('keeps everything after the first = in --x=v, and allows an empty value', () => {
    expect(optionString(parse('status', '--relay-dir=a=b'), 'relay-dir')).toBe('a=b');
    expect(optionString(parse('status', '--relay-dir='), 'relay-dir')).toBe('');
  });

  it('the value of --x v is the next word, whatever it looks like', () => {
    expect(optionString(parse('status', '--relay-dir', '--json'), 'relay-dir')).toBe('--json');
    expect(optionString(parse('status', '--relay-dir', '-'), 'relay-dir')).toBe('-');
    expect(optionFlag(parse('status', '--relay-dir', '--json'), 'json')).toBe(false);
  });

  it('takes options before or after the subcommand', () => {
    const before = parse('--relay-dir', '/r', '--json', 'status');
    const after = parse('status', '--json', '--relay-dir', '/r');
    for (const args of [before, after]) {
      expect(args.command).toBe('status');
      expect(optionString(args, 'relay-dir')).toBe('/r');
      expect(optionFlag(args, 'json')).toBe(true);
    }
  });

  it('-- ends options', () => {
    const args = parse('run', '--timeout', '5', '--', '--lease', '-x', '--timeout=3');
    expect(args.command).toBe('run');
    expect(optionString(args, 'timeout')).toBe('5');
    expect(optionFlag(args, 'lease')).toBe(false);
    expect(args.positionals).toEqual(['--lease', '-x', '--timeout=3']);
  });

  it('-- ends options before the subcommand too: the rest is not a subcommand', () => {
    const args = parse('--', 'status');
    expect(args.command).toBeUndefined();
    expect(args.positionals).toEqual(['status']);
  });

  it('run stops at the first command word: run ls -la keeps -la', () => {
    const args = parse('run', 'ls', '-la');
    expect(args.command).toBe('run');
    expect(args.positionals).toEqual(['ls', '-la']);
    expect(args.options.size).toBe(0);
  });

  it("options after run's command word belong to the command", () => {
    const args = parse('run', '--timeout', '5', 'printf', '%s', '--timeout', '3', '--lease', '--', 'x');
    expect(optionString(args, 'timeout')).toBe('5');
    expect(optionFlag(args, 'lease')).toBe(false);
    expect(args.positionals).toEqual(['printf', '%s', '--timeout', '3', '--lease', '--', 'x']);
  });

  it('a subcommand name after run is a command word', () => {
    expect(parse('run', 'status', '--json').positionals).toEqual(['status', '--json']);
  });

  it('other subcommands keep parsing options after positionals', () => {
    const args = parse('status', 'extra', '--json');
    expect(args.positionals).toEqual(['extra']);
    expect(optionFlag(args, 'json')).toBe(true);
  });

  it('an unknown option names itself and the subcommand', () => {
    for (const argv of [
      ['status', '--bogus'],
      ['--bogus', 'status'],
      ['status', '--bogus=1'],
    ]) {
      const error = usageError(...argv);
      expect(error.message).toMatch(/--bogus/);
      expect(error.message).toMatch(/relay-dap status/);
      expect(error.command).toBe('status');
    }
  });

  it("another subcommand's option is unknown here, wherever it stands", () => {
    for (const argv of [
      ['status', '--timeout', '5'],
      ['--timeout', '5', 'status'],
    ]) {
      const error = usageError(...argv);
      expect(error.message).toMatch(/--timeout/);
      expect(error.message).toMatch(/relay-dap status/);
    }
  });

  it('an unknown option with no subcommand names relay-dap', () => {
    const error = usageError('--bogus');
    expect(error.message).toMatch(/--bogus/);
    expect(error.command).toBeUndefined();
  });

  it('a single-dash option is an option, and unknown unless defined', () => {
    const error = usageError('status', '-x');
    expect(error.message).toMatch(/-x/);
    expect(error.command).toBe('status');
  });

  it('an option that needs a value and has none is an error naming it', () => {
    const error = usageError('status', '--relay-dir');
    expect(error.message).toMatch(/--relay-dir/);
    expect(error.message).toMatch(/DIR/);
  });

  // Issue 9, item 13: `--relay-dir -- CMD` made a relay directory named `--`.
  it('an option that needs a value followed by `--` is an error naming it, not a value of `--`', () => {
    for (const argv of [
      ['run', '--relay-dir', '--', 'echo', 'hi'],
      ['--relay-dir', '--', 'status'],
    ]) {
      const error = usageError(...argv);
      expect(error.message).toMatch(/--relay-dir needs a value \(DIR\)/);
    }
  });

  it('a flag given a value is an error naming it', () => {
    const error = usageError('status', '--json=yes');
    expect(error.message).toMatch(/--json/);
  });

  it('the last of a repeated option wins', () => {
    expect(optionString(parse('status', '--relay-dir', 'a', '--relay-dir', 'b'), 'relay-dir')).toBe('b');
  });

  it('an unknown word with no subcommand is a positional (main.ts reports it)', () => {
    const args = parse('frobnicate');
    expect(args.command).toBeUndefined();
    expect(args.positionals).toEqual(['frobnicate']);
  });
});

describe('optionNumber', () => {
  it('reads non-negative numbers', () => {
    expect(optionNumber(parse('run', '--timeout', '2.5', 'x'), 'timeout', 'seconds')).toBe(2.5);
    expect(optionNumber(parse('run', '--timeout=0', 'x'), 'timeout', 'seconds')).toBe(0);
    expect(optionNumber(parse('run', 'x'), 'timeout', 'seconds')).toBeUndefined();
  });

  for (const text of ['abc', '', ' ', '-1', 'Infinity', 'NaN', '1s']) {
    it(`rejects ${JSON.stringify(text)}, naming the option`, () => {
      const args = parse('run', `--timeout=${text}`, 'x');
      expect(() => optionNumber(args, 'timeout', 'seconds')).toThrow(UsageError);
      expect(() => optionNumber(args, 'timeout', 'seconds')).toThrow(/--timeout/);
    });
  }
});

describe('formatOptions', () => {
  it('lists every option with its placeholder, aligned', () => {
    const text = formatOptions(SPECS.run!);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ {2}--relay-dir DIR {2}relay directory$/);
    expect(lines[1]).toMatch(/^ {2}--timeout S {6}seconds$/);
    expect(lines[2]).toMatch(/^ {2}--lease {10}lease$/);
  });
});

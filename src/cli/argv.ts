/**
 * Command-line parsing for every subcommand. Options may stand before or after the
 * subcommand; `--` ends options. For commands that take a command line (`run`), the first
 * word that is not an option also ends them, so `relay-dap run ls -la` needs no `--`.
 */
import { recognisedAcrossBundles } from '../io/bundleCrossingClass.js';

export interface OptionSpec {
  name: string;
  /** Placeholder for the value (`S`, `DIR`); absent for a flag. */
  value?: string;
  description: string;
  /** A number option's allowed values: checked while parsing, for every option alike. */
  range?: NumberRange;
  /** May be given more than once (`--env A=1 --env B=2`): every value is kept, in order (see optionList). */
  repeatable?: boolean;
}

export interface NumberRange {
  unit: 'seconds' | 'milliseconds';
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string | undefined,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
// Thrown in one bundle, caught in another (bundleCrossingClass.ts).
recognisedAcrossBundles(UsageError, 'UsageError');

export interface ParsedArgs {
  command: string | undefined;
  options: Map<string, string | true>;
  /** Every value of a repeatable option, in the order given. */
  lists: Map<string, string[]>;
  positionals: string[];
}

/**
 * `specsFor(command)` gives the options a command accepts (the global ones included).
 * `restAfterFirstPositional(command)`: for `run`, everything after the first word is the command.
 */
export function parseArgs(
  argv: readonly string[],
  knownCommands: ReadonlySet<string>,
  specsFor: (command: string | undefined) => readonly OptionSpec[],
  restAfterFirstPositional: (command: string | undefined) => boolean,
): ParsedArgs {
  const seen: Array<{ name: string; value: string | undefined }> = [];
  const positionals: string[] = [];
  let command: string | undefined;
  let rest = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (rest) {
      positionals.push(arg);
    } else if (arg === '--') {
      rest = true;
    } else if (arg.startsWith('--') || (arg.startsWith('-') && arg.length === 2)) {
      const eq = arg.indexOf('=');
      const name = (eq > 0 ? arg.slice(0, eq) : arg).replace(/^-+/, '');
      let value = eq > 0 ? arg.slice(eq + 1) : undefined;
      // The value of an option that takes one is the next word, whatever it looks like.
      const spec = findSpec(name, command, specsFor, knownCommands);
      if (spec?.value !== undefined && value === undefined) {
        // … except `--`, which ends the options: `--relay-dir -- CMD` lacks a directory, and
        // taking `--` for one would make a relay directory of that name.
        if (i + 1 >= argv.length || argv[i + 1] === '--')
          throw new UsageError(`option --${spec.name} needs a value (${spec.value})`, command);
        value = argv[++i]!;
      }
      seen.push({ name, value });
    } else if (command === undefined && knownCommands.has(arg)) {
      command = arg;
    } else {
      positionals.push(arg);
      if (restAfterFirstPositional(command)) rest = true;
    }
  }
  // Checked at the end: an option given before its subcommand is only known once it is seen.
  const specs = specsFor(command);
  const options = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (const { name, value } of seen) {
    const spec = specs.find((s) => s.name === name);
    const where = command ? `relay-dap ${command}` : 'relay-dap';
    if (!spec) throw new UsageError(`unknown option --${name} for ${where}`, command);
    if (spec.value === undefined && value !== undefined) {
      throw new UsageError(`option --${spec.name} takes no value`, command);
    }
    if (spec.range && value !== undefined) checkRange(spec.name, value, spec.range, command);
    options.set(spec.name, value ?? true);
    if (spec.repeatable && value !== undefined)
      lists.set(spec.name, [...(lists.get(spec.name) ?? []), value]);
  }
  return { command, options, lists, positionals };
}

/** "--poll takes a whole number of milliseconds from 10 to 60000, not "0"". */
function checkRange(name: string, text: string, range: NumberRange, command: string | undefined): void {
  const value = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) {
    throw new UsageError(
      `--${name} takes ${range.integer ? 'a whole number' : 'a number'} of ${range.unit} from ${range.min} to ${range.max}, not ${JSON.stringify(text)}`,
      command,
    );
  }
}

function findSpec(
  name: string,
  command: string | undefined,
  specsFor: (command: string | undefined) => readonly OptionSpec[],
  knownCommands: ReadonlySet<string>,
): OptionSpec | undefined {
  const direct = specsFor(command).find((s) => s.name === name);
  if (direct || command !== undefined) return direct;
  // Before the subcommand is known, an option of any subcommand may appear.
  for (const other of knownCommands) {
    const spec = specsFor(other).find((s) => s.name === name);
    if (spec) return spec;
  }
  return undefined;
}

export function optionString(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function optionList(args: ParsedArgs, name: string): string[] {
  return args.lists.get(name) ?? [];
}

export function optionFlag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

/** A non-negative number of seconds or milliseconds, with the option named in the error. */
export function optionNumber(args: ParsedArgs, name: string, unit: string): number | undefined {
  const text = optionString(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(
      `--${name} takes a number of ${unit} (≥ 0), not ${JSON.stringify(text)}`,
      args.command,
    );
  }
  return value;
}

export function formatOptions(specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => [`--${s.name}${s.value ? ' ' + s.value : ''}`, s.description] as const);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}

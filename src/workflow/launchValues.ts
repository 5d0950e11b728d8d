/**
 * The `secrets`, `vars` and `inputs` contexts of a launch: act-compatible files (`.secrets`,
 * `.vars`, `.input` in the repository root by default, as act's --secret-file, --var-file and
 * --input-file; parsed as act parses them, actDotenv.ts) merged with the launch arguments of
 * the same names, which win. `inputs` start from the defaults the workflow declares under
 * `on.workflow_dispatch.inputs` and `on.workflow_call.inputs`.
 *
 * Files are read with the project's safe reader (a regular file, bounded), on the editor's
 * side. A secrets file that other users can read, or that another user owns (and so could
 * fill with values of their choosing), gives a warning line: these are shared machines. A
 * default file that is absent is no error; a file the launch names that is absent is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeUid, octalMode, selfUid } from '../io/fileOwner.js';
import { JOB_FILE_LIMIT, readUserFile, UserFileError } from '../io/userFile.js';
import { DotenvError, parseActDotenv } from './actDotenv.js';

export interface LaunchValueArguments {
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  inputs?: Record<string, unknown>;
  /** Relative to the repository root; defaults `.secrets`, `.vars`, `.input` there. */
  secretsFile?: string;
  varsFile?: string;
  inputsFile?: string;
}

export interface LaunchValues {
  secrets: Record<string, string>;
  vars: Record<string, string>;
  inputs: Record<string, unknown>;
  /** One console line each: a secrets file open to others, or owned by another user. */
  warnings: string[];
}

export class LaunchValuesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchValuesError';
  }
}

/** ENOENT/ENOTDIR (workflow/ does not reach into relay/ for its twin). */
function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

type Kind = 'secrets' | 'vars' | 'inputs';
const DEFAULT_FILE: Record<Kind, string> = { secrets: '.secrets', vars: '.vars', inputs: '.input' };
const ARGUMENT: Record<Kind, string> = { secrets: 'secretsFile', vars: 'varsFile', inputs: 'inputsFile' };

/** The values of a file, {} for an absent default file; warnings for a secrets file. */
async function readValuesFile(
  kind: Kind,
  given: string | undefined,
  root: string,
  warnings: string[],
): Promise<Record<string, string>> {
  const file = path.resolve(root, given ?? DEFAULT_FILE[kind]);
  const what = `${kind} file`;
  let bytes: Buffer;
  try {
    bytes = await readUserFile(file, what, JOB_FILE_LIMIT);
  } catch (error) {
    if (given === undefined && isNotFound(error)) return {};
    if (isNotFound(error)) {
      throw new LaunchValuesError(
        `the ${what} ${file} (launch argument ${ARGUMENT[kind]}) does not exist: create it or fix the path`,
      );
    }
    throw new LaunchValuesError(
      error instanceof UserFileError
        ? error.message
        : `the ${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): check its permissions`,
    );
  }
  if (kind === 'secrets') warnings.push(...secretsFileWarnings(file));
  try {
    return parseActDotenv(bytes.toString('utf8'));
  } catch (error) {
    if (error instanceof DotenvError) {
      throw new LaunchValuesError(`the ${what} ${file}, ${error.message} (act's dotenv format)`);
    }
    throw error;
  }
}

function secretsFileWarnings(file: string): string[] {
  const warnings: string[] = [];
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return warnings;
  }
  if (stat.uid !== selfUid()) {
    warnings.push(
      `the secrets file ${file} belongs to ${describeUid(stat.uid)}, not to you: ` +
        'that user chooses the values your steps get; use a file of your own',
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    warnings.push(
      `the secrets file ${file} can be read by other users (mode ${octalMode(stat.mode)}): chmod 600 ${file}`,
    );
  }
  return warnings;
}

function mapping(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The declared inputs of the workflow's `on:` (workflow_dispatch first, then workflow_call). */
function declaredInputs(on: unknown): Map<string, Record<string, unknown>> {
  const declared = new Map<string, Record<string, unknown>>();
  for (const event of ['workflow_dispatch', 'workflow_call']) {
    const inputs = mapping(mapping(mapping(on)?.[event])?.inputs) ?? {};
    for (const [name, spec] of Object.entries(inputs)) {
      if (!declared.has(name)) declared.set(name, mapping(spec) ?? {});
    }
  }
  return declared;
}

/** A text value as its declared type gives it to `inputs` (a boolean input is a boolean). */
function typed(value: unknown, spec: Record<string, unknown> | undefined): unknown {
  if (typeof value !== 'string' || spec === undefined) return value;
  if (spec.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  if (spec.type === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/**
 * The secrets, vars and inputs of a launch. `root`: the repository root (or, outside a
 * checkout, the workflow file's directory); `on`: the workflow's parsed `on:` value.
 */
export async function readLaunchValues(
  args: LaunchValueArguments,
  root: string,
  on: unknown,
): Promise<LaunchValues> {
  const warnings: string[] = [];
  const [secretsFile, varsFile, inputsFile] = await Promise.all([
    readValuesFile('secrets', args.secretsFile, root, warnings),
    readValuesFile('vars', args.varsFile, root, warnings),
    readValuesFile('inputs', args.inputsFile, root, warnings),
  ]);
  const declared = declaredInputs(on);
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of declared) {
    if (spec.default !== undefined) inputs[name] = typed(spec.default, spec);
  }
  for (const [name, value] of Object.entries({ ...inputsFile, ...args.inputs })) {
    inputs[name] = typed(value, declared.get(name));
  }
  return {
    secrets: { ...secretsFile, ...args.secrets },
    vars: { ...varsFile, ...args.vars },
    inputs,
    warnings,
  };
}

/**
 * One console line for each secret the workflow uses that was not given (it is then empty,
 * as on GitHub for a secret that is not set). `used`: the names after `secrets.`.
 */
export function missingSecretLines(used: Iterable<string>, secrets: Record<string, string>): string[] {
  const given = new Set(Object.keys(secrets).map((name) => name.toUpperCase()));
  const missing = [...new Set([...used].map((name) => name.toUpperCase()))].filter(
    (name) => !given.has(name),
  );
  return missing.map(
    (name) =>
      `secret ${name} is not given, so it is empty: add ${name}=… to the secrets file or the launch argument "secrets"`,
  );
}

/**
 * The `shell:` keyword of a workflow step and the bash text that runs one step the way GitHub's
 * runner does: the step's script is written to a file (with the extension the runner gives it)
 * and run through the shell's command template with `{0}` replaced by that file's path.
 */
import { posix } from 'node:path';
import { shellQuote } from './shellQuote.js';

export interface ResolvedShell {
  /** A command line holding `{0}` where the script file's path goes. */
  template: string;
  extension: '.sh' | '.py' | '.ps1' | '.cmd' | '';
}

/**
 * `shell: pwsh` as GitHub's Linux runner runs it: `pwsh -command ". '{0}'"`, the script
 * wrapped so that an error stops it and a native command's exit code is the step's.
 */
const PWSH: ResolvedShell = { template: `pwsh -command ". '{0}'"`, extension: '.ps1' };
const PWSH_PROLOGUE = "$ErrorActionPreference = 'stop'\n";
const PWSH_EPILOGUE = '\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n';

/**
 * `shell: powershell` as GitHub's Windows runner runs it: the same wrapping, Windows PowerShell's
 * command. A Linux box has no `powershell` unless someone put one there; if it is there, it runs.
 */
const POWERSHELL: ResolvedShell = { template: `powershell -command ". '{0}'"`, extension: '.ps1' };

/** `shell: cmd` as GitHub's Windows runner runs it; it never runs here (see buildStepScript). */
const CMD: ResolvedShell = { template: '%ComSpec% /D /E:ON /V:OFF /S /C "CALL "{0}""', extension: '.cmd' };

/** The program a step's shell (or the job's default) runs, when it may be missing where the steps run. */
export function shellProgram(shell: string | undefined): 'pwsh' | 'powershell' | 'cmd' | undefined {
  const command = shell?.trim().split(' ')[0];
  return command === 'pwsh' || command === 'powershell' || command === 'cmd' ? command : undefined;
}

/** cmd.exe exists only on Windows runners: a step written for it cannot run where relay-dap runs steps. */
export function cmdMessage(shell: string): string {
  return (
    `shell '${shell}' runs cmd.exe, which exists only on Windows runners; the steps run in Linux on the relay server's side, ` +
    "so this step cannot run here: skip it (Set Next Step), or write it for 'bash' or 'pwsh'"
  );
}

export class ShellError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellError';
  }
}

/** GitHub's built-in shells (`powershell` and `cmd` are those of its Windows runners). */
const BUILT_IN_SHELLS: Readonly<Record<string, ResolvedShell>> = {
  bash: { template: 'bash --noprofile --norc -eo pipefail {0}', extension: '.sh' },
  sh: { template: 'sh -e {0}', extension: '.sh' },
  python: { template: 'python {0}', extension: '.py' },
  pwsh: PWSH,
  powershell: POWERSHELL,
  cmd: CMD,
};

/**
 * No `shell:` on a Linux runner: the runner runs `bash -e {0}` (falling back to `sh -e {0}` when
 * bash is missing, which relay-dap does not need: it runs everything through bash already).
 */
const DEFAULT_SHELL: ResolvedShell = { template: 'bash -e {0}', extension: '.sh' };

/** The extension the runner gives the script file, from the command's name (`bash …` → `.sh`). */
function extensionForCommand(command: string): ResolvedShell['extension'] {
  if (command === 'bash' || command === 'sh') return '.sh';
  if (command === 'python') return '.py';
  if (command === 'pwsh' || command === 'powershell') return '.ps1';
  if (command === 'cmd') return '.cmd';
  return '';
}

/** Resolves a step's `shell:` (or the job's `defaults.run.shell`; undefined when neither is set). */
export function resolveShell(shell: string | undefined): ResolvedShell {
  const written = shell?.trim() ?? '';
  if (written === '') return DEFAULT_SHELL;
  const builtIn = BUILT_IN_SHELLS[written];
  if (builtIn !== undefined) return builtIn;
  const [command = '', ...rest] = written.split(' ');
  const args = rest.join(' ').trim();
  if (!args.includes('{0}')) {
    throw new ShellError(
      `shell '${written}' is neither a built-in shell (bash, sh, python) nor a command line holding {0} ` +
        `where the script file goes; write for example '${command} {0}'`,
    );
  }
  return { template: written, extension: extensionForCommand(command) };
}

export interface StepScriptFiles {
  /** GITHUB_ENV */
  env: string;
  /** GITHUB_OUTPUT */
  output: string;
  /** GITHUB_PATH */
  path: string;
  /** GITHUB_STEP_SUMMARY */
  stepSummary: string;
}

export interface StepScriptOptions {
  /** The step's `run:` text, already substituted. */
  body: string;
  /** The step's `shell:`, else the job's default; undefined for the runner's default. */
  shell?: string;
  /** Directory the script file is written to (RUNNER_TEMP-like); created if missing, like the files' directories. */
  tempDirectory: string;
  /** File name without extension; a step-specific name keeps steps from overwriting each other's scripts. */
  scriptName: string;
  files: StepScriptFiles;
}

/**
 * The bash text that, run as `bash -c TEXT` in the step's working directory, writes the body to
 * `<tempDirectory>/<scriptName><ext>`, empties the four file-command files, runs the script
 * through the shell template and exits with the script's exit code. The body travels inside one
 * single-quoted `printf '%s'` argument, so no character in it (quotes, `$`, backticks, a line
 * that looks like a heredoc delimiter) can end it early.
 */
export function buildStepScript(options: StepScriptOptions): string {
  if (options.body.includes('\0')) throw new ShellError('a step script cannot contain a NUL character');
  const shell = resolveShell(options.shell);
  const program = shellProgram(options.shell);
  if (program === 'cmd') throw new ShellError(cmdMessage(options.shell?.trim() ?? 'cmd'));
  const scriptPath = `${options.tempDirectory.replace(/\/+$/, '') || '/'}/${options.scriptName}${shell.extension}`;
  const pwsh = shell === PWSH || shell === POWERSHELL;
  // GitHub's pwsh template quotes {0} for PowerShell inside bash's double quotes: built here
  // as one bash word, the path's `'` doubled for PowerShell.
  const command = pwsh
    ? `${program} -command ${shellQuote(`. '${scriptPath.replaceAll("'", "''")}'`)}`
    : shell.template.replaceAll('{0}', shellQuote(scriptPath));
  const body = pwsh ? `${PWSH_PROLOGUE}${options.body}${PWSH_EPILOGUE}` : options.body;
  const { files } = options;
  const directories = [
    options.tempDirectory,
    ...[files.env, files.output, files.path, files.stepSummary].map((file) => posix.dirname(file)),
  ];
  const lines = [
    `mkdir -p ${[...new Set(directories)].map(shellQuote).join(' ')} || exit 1`,
    `printf '%s' ${shellQuote(body)} > ${shellQuote(scriptPath)} || exit 1`,
    `: > ${shellQuote(files.env)} && : > ${shellQuote(files.output)} && : > ${shellQuote(files.path)} && : > ${shellQuote(files.stepSummary)} || exit 1`,
    `export GITHUB_ENV=${shellQuote(files.env)} GITHUB_OUTPUT=${shellQuote(files.output)} GITHUB_PATH=${shellQuote(files.path)} GITHUB_STEP_SUMMARY=${shellQuote(files.stepSummary)}`,
  ];
  if (/^python\s/.test(shell.template)) {
    // Many images ship only python3; GitHub's hosted runners have `python`. Fall back quietly.
    lines.push('command -v python >/dev/null 2>&1 || python() { python3 "$@"; }');
  }
  if (program !== undefined) {
    // Said before the first step too (once); here the step itself says why it failed.
    const missing = `relay-dap: shell: ${program}: ${program} is not installed where the steps run (the relay server's side): install it there, or write this step for bash`;
    lines.push(
      `command -v ${program} >/dev/null 2>&1 || { printf '%s\n' ${shellQuote(missing)} >&2; exit 127; }`,
    );
  }
  lines.push(command, 'exit $?');
  return lines.join('\n') + '\n';
}

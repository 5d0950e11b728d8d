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
  extension: '.sh' | '.py' | '.ps1' | '';
}

/**
 * `shell: pwsh` as GitHub's Linux runner runs it: `pwsh -command ". '{0}'"`, the script
 * wrapped so that an error stops it and a native command's exit code is the step's.
 */
const PWSH: ResolvedShell = { template: `pwsh -command ". '{0}'"`, extension: '.ps1' };
const PWSH_PROLOGUE = "$ErrorActionPreference = 'stop'\n";
const PWSH_EPILOGUE = '\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n';

/** Whether a step's shell (or the job's default) runs through PowerShell 7, which may be missing. */
export function runsInPwsh(shell: string | undefined): boolean {
  return shell?.trim().split(' ')[0] === 'pwsh';
}

export class ShellError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellError';
  }
}

/** GitHub's built-in shells on Linux (`powershell` and `cmd` exist only on Windows runners). */
const BUILT_IN_SHELLS: Readonly<Record<string, ResolvedShell>> = {
  bash: { template: 'bash --noprofile --norc -eo pipefail {0}', extension: '.sh' },
  sh: { template: 'sh -e {0}', extension: '.sh' },
  python: { template: 'python {0}', extension: '.py' },
  pwsh: PWSH,
};

/**
 * No `shell:` on a Linux runner: the runner runs `bash -e {0}` (falling back to `sh -e {0}` when
 * bash is missing, which relay-dap does not need: it runs everything through bash already).
 */
const DEFAULT_SHELL: ResolvedShell = { template: 'bash -e {0}', extension: '.sh' };

const WINDOWS_ONLY_SHELLS = new Set(['powershell', 'cmd']);

/** The extension the runner gives the script file, from the command's name (`bash …` → `.sh`). */
function extensionForCommand(command: string): ResolvedShell['extension'] {
  if (command === 'bash' || command === 'sh') return '.sh';
  if (command === 'python') return '.py';
  if (command === 'pwsh') return '.ps1';
  return '';
}

/** Resolves a step's `shell:` (or the job's `defaults.run.shell`; undefined when neither is set). */
export function resolveShell(shell: string | undefined): ResolvedShell {
  const written = shell?.trim() ?? '';
  if (written === '') return DEFAULT_SHELL;
  const builtIn = BUILT_IN_SHELLS[written];
  if (builtIn !== undefined) return builtIn;
  const [command = '', ...rest] = written.split(' ');
  if (WINDOWS_ONLY_SHELLS.has(command)) {
    throw new ShellError(
      `shell '${written}' is not supported when running steps through relay-dap: it exists only on Windows runners ` +
        "and the steps run in Linux; use 'pwsh' (PowerShell 7), 'bash', 'sh', 'python' or a command line holding {0}",
    );
  }
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
  const scriptPath = `${options.tempDirectory.replace(/\/+$/, '') || '/'}/${options.scriptName}${shell.extension}`;
  const pwsh = shell === PWSH;
  // GitHub's pwsh template quotes {0} for PowerShell inside bash's double quotes: built here
  // as one bash word, the path's `'` doubled for PowerShell.
  const command = pwsh
    ? `pwsh -command ${shellQuote(`. '${scriptPath.replaceAll("'", "''")}'`)}`
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
  lines.push(command, 'exit $?');
  return lines.join('\n') + '\n';
}

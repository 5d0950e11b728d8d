/**
 * The shell text sent through the relay for a step or a console command. The relay carries
 * only text, so the working directory and environment travel as a prelude — on the same
 * first line as the user's text, so that bash's "line N" in an error still matches it.
 */
import path from 'node:path';
import { shellQuote } from '../workflow/shellQuote.js';

export interface CommandContext {
  /** Working directory; relative paths are relative to the relay server's workdir. */
  cwd?: string;
  env: Readonly<Record<string, string>>;
  /** Directories put in front of the server's own PATH (a workflow's GITHUB_PATH). */
  pathPrepend?: readonly string[];
  /** Directories put in front of PYTHONPATH, after the env (a step under the Python debugger). */
  pythonPathPrepend?: readonly string[];
}

export function withContext(text: string, context: CommandContext): string {
  const parts: string[] = [];
  if (context.cwd !== undefined && context.cwd !== '') {
    // A directory that is not there gets a line saying where it was looked for; any other
    // failure of cd (not a directory, no permission) keeps bash's own message.
    const dir = shellQuote(context.cwd);
    const missing = shellQuote(
      `[relay] not run: the working directory ${context.cwd} (on the relay server's side) does not exist: ` +
        'create it there, or fix the cwd of the launch, job or step',
    );
    parts.push(`[ -e ${dir} ] || { printf '%s\\n' ${missing} >&2; exit 1; }; cd -- ${dir} || exit`);
  }
  const exports = Object.entries(context.env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  if (context.pathPrepend && context.pathPrepend.length > 0) {
    exports.push(`PATH=${context.pathPrepend.map(shellQuote).join(':')}:"$PATH"`);
  }
  if (exports.length > 0) parts.push(`export ${exports.join(' ')}`);
  // Its own export, so that "$PYTHONPATH" is the value the env above may have set.
  if (context.pythonPathPrepend && context.pythonPathPrepend.length > 0) {
    parts.push(
      `export PYTHONPATH=${context.pythonPathPrepend.map(shellQuote).join(':')}\${PYTHONPATH:+:"$PYTHONPATH"}`,
    );
  }
  return parts.length === 0 ? text : `${parts.join('; ')}; ${text}`;
}

/** A step's directory: absolute as given, else relative to the job's. */
export function stepDirectory(jobCwd: string | undefined, stepCwd: string | undefined): string | undefined {
  if (stepCwd === undefined || stepCwd === '') return jobCwd;
  if (path.posix.isAbsolute(stepCwd) || jobCwd === undefined) return stepCwd;
  return path.posix.join(jobCwd, stepCwd);
}

/**
 * `directory` (a step's or the job's, as stepDirectory gives it) relative to the launch's
 * `cwd`: `app` for `/workspace/app` under `/workspace`, undefined for the launch's own; an
 * absolute directory that is not under it stays absolute (it has no place relative to it).
 */
export function directoryUnder(
  launchCwd: string | undefined,
  directory: string | undefined,
): string | undefined {
  if (directory === undefined || launchCwd === undefined) return directory;
  if (path.posix.isAbsolute(directory) !== path.posix.isAbsolute(launchCwd)) return directory;
  const relative = path.posix.relative(launchCwd, directory);
  if (relative === '') return undefined;
  return path.posix.isAbsolute(directory) && relative.startsWith('..') ? directory : relative;
}

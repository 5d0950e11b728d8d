/**
 * One command on the server side: bash started in its own session with its output appended
 * to the log, and stopped — with everything it started — on cancel or when it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import {
  COMMAND_ID_ENV,
  findCommandProcesses,
  startedCommandProcesses,
  terminateCommandProcesses,
  type CommandProcesses,
} from './processTree.js';
import {
  CANCELLED_LINE,
  EXIT_CANCELLED,
  EXIT_CANNOT_EXECUTE,
  EXIT_CANNOT_START,
  type ResultRecord,
} from './results.js';

/**
 * The command text reaches bash on fd 3, never as an argument: `/proc/<pid>/cmdline` (what `ps`
 * shows every local user) of bash and of every subshell it forks would otherwise hold the text,
 * secrets included. bash reads it with its own `read` (no extra process), closes fd 3, and runs
 * it with `eval` in the top-level shell, so that `$0` ("bash"), the positional parameters (none),
 * stdin (/dev/null), exit codes, `exit`, traps, runtime error messages, the process group and
 * signals are those of `bash -c TEXT` (Part A's form). One difference is left: a syntax error is
 * reported as "bash: syntax error …", without -c's "-c: line N:" (eval does not say where).
 * The text holds no NUL (checked before), so `read -d ''` takes all of it.
 */
export const FD_BOOTSTRAP = `IFS= read -r -d '' __relay_text <&3 || :; exec 3<&-; eval "unset __relay_text; $__relay_text"`;

export interface RunningCommandOptions {
  id: string;
  text: Buffer;
  /** A file holding exactly `text` (the claimed command file): bash reads the text from it. */
  textFile: string;
  logPath: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
}

/**
 * Why commands cannot start in `workdir` (removed, or replaced, after the server started), in
 * words a user can act on; Node would only say "spawn bash ENOENT".
 */
function workdirProblem(workdir: string): string | undefined {
  const stat = fs.statSync(workdir, { throwIfNoEntry: false });
  const where = `the working directory ${workdir} (on the relay server's side)`;
  const next =
    'create it again, or restart the relay server in a directory that exists (relay-dap serve --workdir DIR)';
  if (stat === undefined) return `${where} does not exist: it was removed after the server started; ${next}`;
  if (!stat.isDirectory()) return `${where} is not a directory any more; ${next}`;
  return undefined;
}

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? os.constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

export class RunningCommand {
  readonly id: string;
  readonly startedAt = new Date();
  readonly done: Promise<ResultRecord>;
  pid: number | null = null;
  private target: CommandProcesses;
  private readonly logFd: number;
  private cancelReason: string | undefined;
  private termination: Promise<{ signalled: number; escalated: boolean }> | undefined;
  private exited = false;

  constructor(private readonly options: RunningCommandOptions) {
    this.id = options.id;
    this.target = { commandId: options.id };
    // Created empty before launch (Part A), opened for appending so that the command's own
    // writes and our final [cancelled] line never overwrite each other.
    const { O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
    this.logFd = fs.openSync(options.logPath, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0o600);
    this.done = this.run();
  }

  get cancelRequested(): boolean {
    return this.cancelReason !== undefined;
  }

  /** Skip the rest of the grace period: SIGKILL whatever of the command is still alive. */
  killNow(): void {
    for (const pid of findCommandProcesses(this.target)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Begin stopping the command and everything it started (idempotent). */
  cancel(reason: string, graceMs = this.options.graceMs): void {
    if (this.exited || this.cancelReason !== undefined) return;
    this.cancelReason = reason;
    this.termination = terminateCommandProcesses(this.target, graceMs);
  }

  private spawnBash(): ChildProcess {
    const { text, textFile, workdir, env, id } = this.options;
    // Not following a link, not blocking on a FIFO: the file must be the one the server read.
    const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
    const textFd = fs.openSync(textFile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      const stat = fs.fstatSync(textFd);
      if (!stat.isFile() || stat.size !== text.length) {
        throw new Error(`${textFile} changed after it was read (it no longer holds the command's text)`);
      }
      return spawn('bash', ['-c', '--', FD_BOOTSTRAP], {
        cwd: workdir,
        env: { ...env, [COMMAND_ID_ENV]: id },
        detached: true,
        stdio: ['ignore', this.logFd, this.logFd, textFd],
      });
    } finally {
      fs.closeSync(textFd);
    }
  }

  private appendLine(line: string): void {
    try {
      const size = fs.fstatSync(this.logFd).size;
      const last = Buffer.alloc(1);
      const needsNewline =
        size > 0 && fs.readSync(this.logFd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
      fs.writeSync(this.logFd, (needsNewline ? '\n' : '') + line + '\n');
    } catch {
      // The log went away with its directory; the result files say the rest.
    }
  }

  private finish(
    partial: Omit<ResultRecord, 'id' | 'host' | 'startedAt' | 'endedAt' | 'durationMs'>,
  ): ResultRecord {
    try {
      fs.closeSync(this.logFd);
    } catch {
      // Already closed.
    }
    const endedAt = new Date();
    return {
      id: this.id,
      host: os.hostname(),
      startedAt: this.startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - this.startedAt.getTime(),
      ...partial,
    };
  }

  private async run(): Promise<ResultRecord> {
    const nul = this.options.text.indexOf(0);
    if (nul >= 0) {
      this.appendLine(
        `[relay] not run: the command text holds a NUL byte at offset ${nul}, which bash cannot be given`,
      );
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_EXECUTE, signal: null, cancelled: false });
    }
    const gone = workdirProblem(this.options.workdir);
    if (gone !== undefined) {
      this.appendLine(`[relay] not run: ${gone}`);
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_START, signal: null, cancelled: false });
    }
    let child: ChildProcess;
    try {
      child = this.spawnBash();
    } catch (error) {
      this.appendLine(`[relay] could not start bash: ${(error as Error).message}`);
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_START, signal: null, cancelled: false });
    }
    this.pid = child.pid ?? null;
    this.target = startedCommandProcesses(this.id, this.pid);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    this.exited = true;
    if (exit.error && this.pid === null) {
      const reason = workdirProblem(this.options.workdir) ?? exit.error.message;
      this.appendLine(`[relay] could not start bash in ${this.options.workdir}: ${reason}`);
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_START, signal: null, cancelled: false });
    }
    // bash is gone; anything it left behind (background jobs, setsid escapes) goes too,
    // before .exit says the log is complete (Part B, defect 3).
    let report = this.termination ? await this.termination : undefined;
    const leftovers = findCommandProcesses(this.target);
    if (leftovers.length > 0) {
      const more = await terminateCommandProcesses(this.target, this.options.graceMs, {
        initial: leftovers,
      });
      report = {
        signalled: (report?.signalled ?? 0) + more.signalled,
        escalated: (report?.escalated ?? false) || more.escalated,
      };
    }
    const cancelled = this.cancelReason !== undefined;
    if (cancelled) this.appendLine(CANCELLED_LINE);
    return this.finish({
      pid: this.pid,
      exitCode: cancelled ? EXIT_CANCELLED : exitCodeOf(exit.code, exit.signal),
      signal: exit.signal,
      cancelled,
      ...(cancelled ? { cancelReason: this.cancelReason } : {}),
      ...(report && report.signalled > 0 ? { leftoverProcesses: report.signalled } : {}),
      ...(report?.escalated ? { escalated: true } : {}),
    });
  }
}

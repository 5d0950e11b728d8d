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
  markPid,
  processStartTicks,
  terminateCommandProcesses,
  type CommandProcesses,
  type PidMark,
} from './processTree.js';
import {
  CANCELLED_LINE,
  EXIT_CANCELLED,
  EXIT_CANNOT_EXECUTE,
  EXIT_CANNOT_START,
  type ResultRecord,
} from './results.js';

/**
 * Texts up to this size that are valid UTF-8 go to bash as `bash -c -- TEXT`, exactly as
 * Part A runs them. Larger ones would fail with E2BIG (Linux caps one argument at 128 KiB),
 * and bytes that are not UTF-8 cannot survive Node's string arguments; both are fed to bash
 * through a file descriptor instead.
 */
const ARGUMENT_TEXT_LIMIT = 100_000;

/** Reads the command from fd 3, closes it, and runs it with `eval`; error messages look as with -c. */
const FD_BOOTSTRAP = '__relay_text=$(cat <&3); exec 3<&-; eval "unset __relay_text; $__relay_text"';

export interface RunningCommandOptions {
  id: string;
  text: Buffer;
  /** A file holding `text` (the claimed command file), used when the text cannot be an argument. */
  textFile: string;
  logPath: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
}

function passesAsArgument(text: Buffer): boolean {
  return text.length <= ARGUMENT_TEXT_LIMIT && Buffer.from(text.toString('utf8'), 'utf8').equals(text);
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? os.constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

export class RunningCommand {
  readonly id: string;
  readonly startedAt = new Date();
  readonly done: Promise<ResultRecord>;
  pid: number | null = null;
  private startTicks: number | undefined;
  private pidMark: PidMark | undefined;
  private readonly logFd: number;
  private cancelReason: string | undefined;
  private termination: Promise<{ signalled: number; escalated: boolean }> | undefined;
  private exited = false;

  constructor(private readonly options: RunningCommandOptions) {
    this.id = options.id;
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
    for (const pid of findCommandProcesses(this.processes())) {
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
    this.termination = terminateCommandProcesses(this.processes(), graceMs);
  }

  private processes(): CommandProcesses {
    return {
      commandId: this.id,
      ...(this.pid !== null ? { pgid: this.pid } : {}),
      ...(this.startTicks !== undefined ? { notBeforeTicks: this.startTicks } : {}),
      ...(this.pidMark !== undefined ? { notBeforePid: this.pidMark } : {}),
    };
  }

  private spawnBash(): ChildProcess {
    const { text, textFile, workdir, env, id } = this.options;
    const childEnv = { ...env, [COMMAND_ID_ENV]: id };
    if (passesAsArgument(text)) {
      return spawn('bash', ['-c', '--', text.toString('utf8')], {
        cwd: workdir,
        env: childEnv,
        detached: true,
        stdio: ['ignore', this.logFd, this.logFd],
      });
    }
    const textFd = fs.openSync(textFile, 'r');
    try {
      return spawn('bash', ['-c', '--', FD_BOOTSTRAP], {
        cwd: workdir,
        env: childEnv,
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
    let child: ChildProcess;
    try {
      child = this.spawnBash();
    } catch (error) {
      this.appendLine(`[relay] could not start bash: ${(error as Error).message}`);
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_START, signal: null, cancelled: false });
    }
    this.pid = child.pid ?? null;
    if (this.pid !== null) {
      this.startTicks = processStartTicks(this.pid);
      this.pidMark = markPid(this.pid);
    }
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    this.exited = true;
    if (exit.error && this.pid === null) {
      this.appendLine(`[relay] could not start bash in ${this.options.workdir}: ${exit.error.message}`);
      return this.finish({ pid: null, exitCode: EXIT_CANNOT_START, signal: null, cancelled: false });
    }
    // bash is gone; anything it left behind (background jobs, setsid escapes) goes too,
    // before .exit says the log is complete (Part B, defect 3).
    let report = this.termination ? await this.termination : undefined;
    const leftovers = findCommandProcesses(this.processes());
    if (leftovers.length > 0) {
      const more = await terminateCommandProcesses(this.processes(), this.options.graceMs, {
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

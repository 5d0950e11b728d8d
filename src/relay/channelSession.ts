/**
 * One channel on the server's side (Part D): its process — bash running the requested text,
 * in a session of its own, stderr merged into stdout (or kept for `exit`), `RELAY_CMD_ID=<channel id>` in its
 * environment so that a cancel reaches its whole tree as a command's does — and the pumping
 * of bytes between the process's pipes and the channel's chunk files, with flow control both
 * ways: a full window stops reading the process's stdout (its writes then block), and a
 * process that does not read its stdin leaves the client's chunks untaken (its writes block).
 *
 * `pump()` is called by the host on every change in the channel's directory and by the
 * process's pipes; it is synchronous, as everything that touches relay files in the server.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ChunkReader, ChunkWriter, CHUNK_BYTES } from './channelStream.js';
import { existsNoFollow, writeFileAtomic } from './files.js';
import type { ChannelFiles } from './layout.js';
import {
  COMMAND_ID_ENV,
  findCommandProcesses,
  startedCommandProcesses,
  terminateCommandProcesses,
  type CommandProcesses,
} from './processTree.js';
import { EXIT_CANCELLED, EXIT_CANNOT_START } from './results.js';
import { exitCodeOf, FD_BOOTSTRAP } from './runningCommand.js';

/** What a client asks for in `request` (JSON). */
export interface ChannelRequest {
  /** Shell text, run as `bash -c` would run it (given to bash on a pipe, never on its command line). */
  text: string;
  /** Where it runs; relative to the server's workdir (default: the workdir). */
  cwd?: string;
  /** Added to the server's environment. */
  env?: Record<string, string>;
  /**
   * `stdout` (default): merged into the stream, as a terminal shows it. `exit`: kept out of a
   * stream that must stay clean (a debug adapter's DAP), its last STDERR_KEPT_BYTES given in `exit`.
   */
  stderr?: 'stdout' | 'exit';
}

/** With `stderr: 'exit'`, how much of the end of stderr `exit` carries. */
export const STDERR_KEPT_BYTES = 64 * 1024;

/** What the server writes to `exit` (JSON) once the process tree has ended and all its output is written. */
export interface ChannelExit {
  exitCode: number;
  signal: string | null;
  cancelled: boolean;
  /** Why it did not run, or why it was stopped. */
  reason?: string;
  /** With `stderr: 'exit'`: the end of what the process wrote to stderr (UTF-8). */
  stderr?: string;
}

export function parseChannelRequest(text: string): ChannelRequest {
  const value = JSON.parse(text) as Partial<ChannelRequest>;
  if (typeof value.text !== 'string') throw new Error('the request names no command text');
  if (value.cwd !== undefined && typeof value.cwd !== 'string') throw new Error('cwd is not a string');
  if (value.stderr !== undefined && value.stderr !== 'stdout' && value.stderr !== 'exit') {
    throw new Error('stderr is neither "stdout" nor "exit"');
  }
  const env: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value.env ?? {})) {
    if (typeof entry !== 'string' || key === '' || key.includes('=') || key.includes('\0')) {
      throw new Error(`environment entry ${JSON.stringify(key.slice(0, 40))} is not NAME=text`);
    }
    env[key] = entry;
  }
  return {
    text: value.text,
    ...(value.cwd !== undefined ? { cwd: value.cwd } : {}),
    ...(value.stderr !== undefined ? { stderr: value.stderr } : {}),
    env,
  };
}

export interface ChannelSessionOptions {
  files: ChannelFiles;
  request: ChannelRequest;
  workdir: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
  /** Something changed outside the files (a pipe, the process): pump again. */
  onChange: () => void;
}

type ChannelChild = ChildProcessByStdio<Writable, Readable, Readable | null>;

export class ChannelSession {
  readonly id: string;
  pid: number | null = null;
  private readonly files: ChannelFiles;
  private readonly input: ChunkReader;
  private readonly output: ChunkWriter;
  private child: ChannelChild | undefined;
  private stdinBlocked = false;
  private stdinGone = false;
  private pendingOut: Buffer[] = [];
  private pendingBytes = 0;
  private stdoutEnded = false;
  private stderrTail: Buffer = Buffer.alloc(0);
  private stdoutPaused = false;
  private processEnded: ChannelExit | undefined;
  private exitWritten = false;
  private cancelReason: string | undefined;
  private termination: Promise<unknown> | undefined;
  private target: CommandProcesses;
  private resolveGone!: () => void;
  /** Resolves when the process tree has ended. */
  readonly gone = new Promise<void>((resolve) => (this.resolveGone = resolve));

  constructor(private readonly options: ChannelSessionOptions) {
    this.files = options.files;
    this.id = options.files.id;
    this.target = { commandId: this.id };
    this.input = new ChunkReader(this.files.inDir);
    this.output = new ChunkWriter(this.files.outDir);
    this.start();
  }

  /** True once `exit` is written: the client reads it and removes the directory. */
  get finished(): boolean {
    return this.exitWritten;
  }

  /** True once the process tree has ended (whether or not its output has all been taken). */
  get processGone(): boolean {
    return this.processEnded !== undefined;
  }

  private start(): void {
    const { request, workdir, env } = this.options;
    const cwd = path.resolve(workdir, request.cwd ?? '.');
    if (!fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
      return this.notStarted(
        `the working directory ${cwd} (on the relay server's side) does not exist or is not a directory`,
      );
    }
    try {
      const kept = request.stderr === 'exit';
      // Merged by bash (`exec 2>&1`): one stream in the order it was written, as a terminal shows it.
      this.child = spawn('bash', ['-c', '--', kept ? FD_BOOTSTRAP : `exec 2>&1; ${FD_BOOTSTRAP}`], {
        cwd,
        env: { ...env, ...request.env, [COMMAND_ID_ENV]: this.id },
        detached: true,
        stdio: ['pipe', 'pipe', kept ? 'pipe' : 'ignore', 'pipe'],
      }) as unknown as ChannelChild;
      this.child.stderr?.on('data', (data: Buffer) => {
        this.stderrTail = Buffer.concat([this.stderrTail, data]).subarray(-STDERR_KEPT_BYTES);
      });
    } catch (error) {
      return this.notStarted(`bash could not be started: ${(error as Error).message}`);
    }
    const child = this.child;
    this.pid = child.pid ?? null;
    this.target = startedCommandProcesses(this.id, this.pid);
    const textPipe = (child.stdio as unknown as Array<Writable | null>)[3]!;
    textPipe.on('error', () => {});
    textPipe.end(request.text);
    child.stdin.on('error', () => this.stdinClosed());
    child.stdout.on('data', (data: Buffer) => {
      this.pendingOut.push(data);
      this.pendingBytes += data.length;
      if (this.pendingBytes >= CHUNK_BYTES && !this.stdoutPaused) {
        this.stdoutPaused = true;
        child.stdout.pause();
      }
      this.options.onChange();
    });
    child.stdout.on('end', () => {
      this.stdoutEnded = true;
      this.options.onChange();
    });
    child.stdout.on('error', () => {});
    child.once('error', (error) => {
      if (this.pid === null) this.notStarted(`bash could not be started: ${error.message}`);
    });
    child.once('exit', (code, signal) => void this.processExited(code, signal));
  }

  private notStarted(reason: string): void {
    this.stdoutEnded = true;
    this.stdinClosed();
    this.processEnded = { exitCode: EXIT_CANNOT_START, signal: null, cancelled: false, reason };
    this.resolveGone();
    queueMicrotask(() => this.options.onChange());
  }

  /** bash has exited: whatever it left running goes too (as for a command), then the exit is known. */
  private async processExited(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.termination) await this.termination;
    const leftovers = findCommandProcesses(this.target);
    if (leftovers.length > 0) {
      await terminateCommandProcesses(this.target, this.options.graceMs, { initial: leftovers });
    }
    // Its stderr's last bytes may come after its exit: read to the end (everything holding it is gone now).
    const stderr = this.child?.stderr;
    if (stderr && !stderr.destroyed && !stderr.readableEnded) {
      await new Promise((resolve) => stderr.once('close', resolve));
    }
    const cancelled = this.cancelReason !== undefined;
    this.processEnded = {
      exitCode: cancelled ? EXIT_CANCELLED : exitCodeOf(code, signal),
      signal,
      cancelled,
      ...(cancelled ? { reason: this.cancelReason } : {}),
      ...(this.options.request.stderr === 'exit' ? { stderr: this.stderrTail.toString('utf8') } : {}),
    };
    this.resolveGone();
    this.options.onChange();
  }

  /** Stop the process and everything it started: SIGTERM, SIGKILL after the grace period (idempotent). */
  cancel(reason: string, graceMs = this.options.graceMs): void {
    if (this.cancelReason !== undefined || this.processEnded !== undefined) return;
    this.cancelReason = reason;
    this.termination = terminateCommandProcesses(this.target, graceMs);
  }

  private stdinClosed(): void {
    if (this.stdinGone) return;
    this.stdinGone = true;
    // The process reads no more: the client's further bytes are dropped, as a pipe's would be.
    this.input.close();
  }

  /** Move what can be moved, in both directions, and publish the end. */
  pump(): void {
    if (this.exitWritten) return;
    if (this.cancelReason === undefined && existsNoFollow(this.files.cancel)) {
      this.cancel('cancelled by its client');
    }
    this.pumpInput();
    this.pumpOutput();
    if (this.processEnded && this.stdinGone === false) this.stdinClosed();
    if (this.processEnded && (this.output.isEnded || this.output.readerClosed())) {
      writeFileAtomic(this.files.exit, JSON.stringify(this.processEnded) + '\n');
      this.exitWritten = true;
    }
  }

  private pumpInput(): void {
    const stdin = this.child?.stdin;
    while (stdin && !this.stdinBlocked && !this.stdinGone) {
      const data = this.input.take();
      if (data === undefined) return;
      if (data === 'end') {
        stdin.end();
        return;
      }
      if (!stdin.write(data)) {
        this.stdinBlocked = true;
        stdin.once('drain', () => {
          this.stdinBlocked = false;
          this.options.onChange();
        });
      }
    }
  }

  private pumpOutput(): void {
    const stdout = this.child?.stdout;
    if (this.output.readerClosed()) {
      // The client reads no more: the process's next write fails, as on a pipe whose reader closed.
      this.pendingOut = [];
      this.pendingBytes = 0;
      if (stdout && !stdout.destroyed) stdout.destroy();
      this.stdoutEnded = true;
      return;
    }
    while (this.pendingBytes > 0 && this.output.hasRoom()) {
      const all = this.pendingOut.length === 1 ? this.pendingOut[0]! : Buffer.concat(this.pendingOut);
      const piece = all.subarray(0, CHUNK_BYTES);
      const rest = all.subarray(piece.length);
      this.output.write(piece);
      this.pendingOut = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    if (this.stdoutPaused && this.pendingBytes < CHUNK_BYTES && stdout) {
      this.stdoutPaused = false;
      stdout.resume();
    }
    if (this.stdoutEnded && this.pendingBytes === 0 && !this.output.isEnded) this.output.end();
  }
}

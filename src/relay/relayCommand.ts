/**
 * One command of a RelayClient, submitted by it or followed (attach): its submission, its
 * output as it is written, its exit code, cancelling it, and its lease. Cancelling withdraws
 * it while it is still queued (a rename no other client can undo); once a server has it,
 * `cancel` is written and kept naming it until it ends, since another client's cancel may
 * replace ours. The client that owns it (see client.ts for the timers) calls `check` when its
 * result files change and every 250 ms, `onLogChange` when its log grows, `refreshLease`
 * every second.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { diskFullError, freeSpaceHint, isDiskFull } from './diskSpace.js';
import { RelayError } from './errors.js';
import { existsNoFollow, readTextIfExists, removeIfExists, touch, writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';
import { LogFollower } from './logFollower.js';
import { ensureLeaseDirectory, foreignFileError, relayFilesystemError } from './relayDirectory.js';
import {
  CANCELLED_LINE,
  EXIT_CANCELLED,
  EXIT_RELAY_LOST,
  parseExitCode,
  parseResultRecord,
  type ResultRecord,
} from './results.js';
import { withdrawQueuedCommand } from './withdraw.js';

export interface SubmitOptions {
  /** Aborting cancels the command (a queued one is withdrawn); `exit` then resolves with 130. */
  signal?: AbortSignal;
  /** Keep a lease: if this client stops refreshing it, the server cancels the command (Part C). */
  lease?: boolean;
}

export interface CommandOutcome {
  id: string;
  exitCode: number;
  cancelled: boolean;
  /** The server's `result/<id>.json`, when it wrote one (our servers do; Part-A servers do not). */
  record?: ResultRecord;
  /**
   * Following another client's command: that client took (and deleted) the result before this
   * one could read it, so the exit code is unknown (reported as 125).
   */
  resultTakenByOwner?: true;
}

export interface RelayCommand {
  readonly id: string;
  /** The command's output (stdout and stderr merged), raw bytes, live. Ends after `exit` settles. */
  readonly output: Readable;
  /** Settles as soon as the exit code is known; the rest of the output may still be streaming. */
  readonly exit: Promise<CommandOutcome>;
  /** Cancel: withdraw it if still queued, else ask the server (SIGTERM, SIGKILL after its grace). */
  cancel(): void;
}

/** How long a written `cancel` is trusted before it is checked and, if replaced, written again. */
export const CANCEL_REASSERT_MS = 250;

/** What a command needs of the client that owns it (RelayClient). */
export interface CommandHost {
  /** A server is up and the handshake is done (one check shared by commands submitted together). */
  ensureServer(): Promise<void>;
  /** Say once that the relay directory cannot be used now; the command keeps waiting. */
  reportProblem(error: unknown): void;
  /** Tell the user of `line`, once. */
  notice(line: string): void;
  /** The command has settled: stop calling it. */
  forget(id: string): void;
  isQueuedOrRunning(id: string): boolean;
}

export class PendingCommand implements RelayCommand {
  readonly exit: Promise<CommandOutcome>;
  private readonly follower: LogFollower;
  private settle!: { resolve: (outcome: CommandOutcome) => void; reject: (error: Error) => void };
  private submitted = false;
  private done = false;
  private cancelWanted = false;
  private cancelWrittenAt = 0;
  private lease = false;
  /** Following someone else's command: its results stay for the client that submitted it. */
  private following = false;

  constructor(
    private readonly client: CommandHost,
    private readonly layout: RelayLayout,
    readonly id: string,
  ) {
    this.follower = new LogFollower(layout.log(id));
    this.exit = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // A caller that only awaits `output` must not see an unhandled rejection on `exit`.
    this.exit.catch(() => {});
  }

  get output(): Readable {
    return this.follower.stream;
  }

  async submit(text: string | Buffer, options: SubmitOptions): Promise<void> {
    try {
      if (options.signal?.aborted) return this.finishLocally(false);
      await this.client.ensureServer();
      if (this.done) return;
      if (options.lease) {
        ensureLeaseDirectory(this.layout);
        writeFileAtomic(this.layout.lease(this.id), '');
        this.lease = true;
      }
      const tmp = this.layout.commandTmp(this.id);
      try {
        fs.writeFileSync(tmp, text, { mode: 0o600 });
      } catch (error) {
        removeIfExists(tmp);
        throw diskFullError(this.layout.root, `queue command ${this.id}`, error);
      }
      fs.renameSync(tmp, this.layout.command(this.id));
      this.submitted = true;
      if (this.cancelWanted) this.cancel();
      else options.signal?.addEventListener('abort', () => this.cancel(), { once: true });
      this.check();
    } catch (error) {
      this.fail(relayFilesystemError(this.layout, error));
    }
  }

  /** Follow command `id`, already queued or running, without submitting or deleting anything. */
  follow(): void {
    this.following = true;
    this.submitted = true;
    this.check();
  }

  cancel(): void {
    if (this.done) return;
    this.cancelWanted = true;
    if (!this.submitted) return;
    try {
      // Still queued: take it back ourselves; no server involvement, it never runs.
      if (withdrawQueuedCommand(this.layout, this.id, 'cancelled before it started', { publish: false })) {
        this.finishLocally(true);
        return;
      }
      this.assertCancel(true);
    } catch (error) {
      // The cancel cannot be written now (an unusable directory): the periodic check
      // reasserts it, and the client reports the directory meanwhile.
      this.client.reportProblem(error);
    }
  }

  /**
   * Keep `cancel` naming this command until it has ended: another client's cancel may have
   * replaced ours, and a Part-A server deletes a cancel that arrived before `running` named it.
   */
  private assertCancel(force: boolean): void {
    if (!this.cancelWanted || this.done) return;
    const now = performance.now();
    if (!force && now - this.cancelWrittenAt < CANCEL_REASSERT_MS) return;
    if (!force && readTextIfExists(this.layout.cancel)?.trim() === this.id) return;
    if (existsNoFollow(this.layout.exit(this.id))) return;
    try {
      writeFileAtomic(this.layout.cancel, `${this.id}\n`);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      // No room for the cancel file: said once, and tried again at the next check.
      this.client.notice(diskFullError(this.layout.root, `cancel command ${this.id}`, error).message);
      return;
    }
    this.cancelWrittenAt = now;
  }

  /** New output: read it. */
  onLogChange(): void {
    if (!this.done && this.submitted) this.follower.pump();
  }

  /** Called on every other event and periodic rescan. */
  check(): void {
    if (this.done || !this.submitted) return;
    let exitText: string | undefined;
    try {
      exitText = readTextIfExists(this.layout.exit(this.id));
    } catch (error) {
      // A result written by another user that this one cannot read: waiting cannot fix that.
      const foreign = foreignFileError(this.layout.exit(this.id), error, 'read the result');
      if (foreign) return this.fail(foreign, { final: true });
      throw error;
    }
    if (exitText === undefined) {
      this.follower.pump();
      this.assertCancel(false);
      // A followed command whose own client took the result first: the output is complete
      // (the log is held open), only the exit code is gone.
      if (this.following && !this.client.isQueuedOrRunning(this.id)) void this.completeWithoutResult();
      return;
    }
    void this.complete(exitText);
  }

  /** Every second: a sign of life for the server, if we hold a lease. */
  refreshLease(): void {
    if (this.lease && !this.done) touch(this.layout.lease(this.id));
  }

  private async complete(exitText: string): Promise<void> {
    if (this.done) return;
    this.done = true;
    const exitCode = parseExitCode(exitText);
    if (exitCode === undefined) {
      this.client.forget(this.id);
      await this.follower.end();
      this.settle.reject(
        new RelayError(
          'BAD_RESULT',
          `result file ${this.layout.exit(this.id)} holds ${JSON.stringify(exitText.slice(0, 40))}, not an exit code: ` +
            `the server that wrote it does not speak this protocol. The files are left in place for a look.`,
        ),
      );
      return;
    }
    // The log is complete once .exit exists (Part A). Hold it open, then delete our files.
    await this.follower.open();
    const record = parseResultRecord(readTextIfExists(this.layout.meta(this.id)));
    if (!this.following) {
      for (const file of [this.layout.exit(this.id), this.layout.meta(this.id), this.layout.log(this.id)]) {
        removeIfExists(file);
      }
    }
    if (record?.diskFull !== undefined) {
      this.client.notice(
        `command ${this.id} ended while ${record.diskFull}: its output may be cut short where its writes failed` +
          `${record.note ? ` (${record.note})` : ''}; if the disk is still full, ${freeSpaceHint(this.layout.root)}.`,
      );
    }
    if (this.lease) removeIfExists(this.layout.lease(this.id));
    this.client.forget(this.id);
    this.settle.resolve({
      id: this.id,
      exitCode,
      cancelled: record?.cancelled ?? (this.cancelWanted && exitCode === EXIT_CANCELLED),
      ...(record ? { record } : {}),
    });
    void this.follower.end();
  }

  private async completeWithoutResult(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.follower.open();
    this.client.forget(this.id);
    this.settle.resolve({
      id: this.id,
      exitCode: EXIT_RELAY_LOST,
      cancelled: false,
      resultTakenByOwner: true,
    });
    void this.follower.end();
  }

  private finishLocally(started: boolean): void {
    if (this.done) return;
    this.done = true;
    this.client.forget(this.id);
    if (this.lease) removeIfExists(this.layout.lease(this.id));
    // Same last line as a server-side cancel, so every cancelled command's output ends alike.
    if (started) this.follower.stream.push(`${CANCELLED_LINE}\n`);
    void this.follower.abandon();
    this.settle.resolve({ id: this.id, exitCode: EXIT_CANCELLED, cancelled: true });
  }

  /**
   * The server is gone, or submission failed. A command still queued is taken back.
   * `final`: the command has ended, only its result cannot be had; the message says all.
   */
  fail(error: Error, options: { final?: boolean } = {}): void {
    if (this.done) return;
    this.done = true;
    this.client.forget(this.id);
    let withdrew = false;
    try {
      withdrew =
        this.submitted &&
        !options.final &&
        withdrawQueuedCommand(this.layout, this.id, 'its client gave up', { publish: false });
      if (this.lease) removeIfExists(this.layout.lease(this.id));
    } catch {
      // An unusable directory: the error being reported says so already.
    }
    const message =
      !this.submitted || options.final
        ? error.message
        : withdrew
          ? `${error.message} Command ${this.id} had not started; it was withdrawn so that it does not run unattended later.`
          : `${error.message} Command ${this.id} was running; a restarted server settles it (exit 125) and kills what is left of it.`;
    const wrapped = error instanceof RelayError ? new RelayError(error.code, message) : error;
    void this.follower.end();
    this.settle.reject(wrapped);
  }
}

/**
 * The relay client library: submit a command text, stream its output while it runs, learn
 * its exit code, cancel it (through an AbortSignal too), and read the relay's status.
 *
 * One RelayClient shares one watcher and one liveness timer among all its commands, so a
 * debug session with a step and several console commands in flight costs one of each.
 * It speaks Part A to any server: it performs the handshake when `handshake.done` is
 * missing, and cancels by writing `cancel` — again if another client's cancel replaced it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { longTimeout } from '../time/longTimeout.js';
import { ChangeWatcher } from './changeWatcher.js';
import { describeFullDisk, freeSpaceHint, isDiskFull } from './diskSpace.js';
import { RelayError, startServerHint } from './errors.js';
import {
  existsNoFollow,
  listDirectory,
  readTextIfExists,
  removeIfContent,
  removeIfExists,
  touch,
  writeFileAtomic,
} from './files.js';
import { isValidCommandId, newCommandId } from './ids.js';
import { commandIdFromFileName, parseClaimedFileName, type RelayLayout } from './layout.js';
import { DEFAULT_STALE_AFTER_MS, ServerLivenessJudge, type ServerLiveness } from './liveness.js';
import { LogFollower } from './logFollower.js';
import { parseRunningMarker, runningNames } from './runningMarker.js';
import { formatMarker, parseMarker } from './markers.js';
import {
  ensureLeaseDirectory,
  foreignFileError,
  openRelayDirectory,
  relayFilesystemError,
} from './relayDirectory.js';
import {
  CANCELLED_LINE,
  EXIT_CANCELLED,
  EXIT_RELAY_LOST,
  parseExitCode,
  parseResultRecord,
  type ResultRecord,
} from './results.js';
import { chooseWatchMode, type WatchChoice } from './watchMode.js';
import { withdrawQueuedCommand } from './withdraw.js';

export interface RelayClientOptions {
  relayDir: string;
  /** Force polling at this interval instead of filesystem events. */
  pollMs?: number;
  /** How long `submit` waits for a server to appear before failing (default: not at all). */
  connectTimeoutMs?: number;
  /** How long to wait for `handshake.done` once a server is there (Part-A servers poll every second). */
  handshakeTimeoutMs?: number;
  /** Silence of the heartbeat after which the server counts as gone. */
  staleAfterMs?: number;
}

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

export interface RelayStatus {
  relayDir: string;
  server: ServerLiveness;
  handshake: 'done' | 'requested' | 'none';
  running: { id: string; pgid: number | undefined } | undefined;
  pending: string[];
  watch: WatchChoice;
}

export interface FlushReport {
  removedCommands: number;
  removedResults: number;
  staleRunning: string | undefined;
}

const LIVENESS_CHECK_MS = 250;

/** What a client could not write for lack of space, as an error that says what to do. */
function diskFullError(layout: RelayLayout, what: string, error: unknown): Error {
  if (!isDiskFull(error)) return error as Error;
  const full =
    describeFullDisk(layout.root, error) ?? `the disk holding relay directory ${layout.root} is full`;
  return new RelayError(
    'DISK_FULL',
    `cannot ${what}: ${full}; ${freeSpaceHint(layout.root)}, then try again.`,
  );
}
const CANCEL_REASSERT_MS = 250;

class PendingCommand implements RelayCommand {
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
    private readonly client: RelayClient,
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
        throw diskFullError(this.layout, `queue command ${this.id}`, error);
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
      this.client.notice(diskFullError(this.layout, `cancel command ${this.id}`, error).message);
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

export class RelayClient {
  readonly layout: RelayLayout;
  readonly watchChoice: WatchChoice;
  private readonly judge: ServerLivenessJudge;
  private readonly pending = new Map<string, PendingCommand>();
  private readonly waiters = new Set<() => void>();
  private watcher: ChangeWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private ensuring: Promise<void> | undefined;
  private readonly noticed = new Set<string>();
  private diskFullNoticed = false;
  private noticeListener: ((line: string) => void) | undefined;
  /** The problem last reported through the notice listener, until a check succeeds again. */
  private problem: string | undefined;

  private constructor(private readonly options: RelayClientOptions) {
    this.layout = openRelayDirectory(options.relayDir);
    this.watchChoice = chooseWatchMode(this.layout.root, options.pollMs);
    this.judge = new ServerLivenessJudge(this.layout, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  }

  static async open(options: RelayClientOptions): Promise<RelayClient> {
    // A server being started creates the directory: within connectTimeoutMs, wait for it as
    // for the server itself (never create it: a client's path may be mistyped or relative).
    const deadline = performance.now() + (options.connectTimeoutMs ?? 0);
    while (!fs.existsSync(path.resolve(options.relayDir)) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const client = new RelayClient(options);
    client.watcher = new ChangeWatcher(
      [client.layout.root, client.layout.resultDir],
      client.watchChoice,
      (changed) => client.guard(() => client.onChange(changed)),
    );
    client.timer = setInterval(() => client.guard(() => client.periodic(), true), LIVENESS_CHECK_MS);
    client.leaseTimer = setInterval(
      () => client.guard(() => client.pending.forEach((command) => command.refreshLease())),
      1000,
    );
    return client;
  }

  private closedError(): RelayError {
    return new RelayError(
      'CLOSED',
      `the relay client for ${this.layout.root} is closed: it takes no more commands`,
    );
  }

  /**
   * Every callback of a watcher or timer runs through here: a filesystem error in one (a
   * relay directory made unreadable, EACCES) is this client's problem to report, never an
   * exception that takes down the process and every other session in it.
   */
  private guard(work: () => void, fullCheck = false): void {
    try {
      work();
    } catch (error) {
      this.reportProblem(error);
      return;
    }
    // Only the periodic check looks at everything: its success means the problem is gone.
    if (fullCheck && this.problem !== undefined) {
      this.problem = undefined;
      this.noticeListener?.(`relay directory ${this.layout.root} is usable again.`);
    }
  }

  /** Say once what is wrong (the commands keep waiting: a fixed directory lets them finish). */
  reportProblem(error: unknown): void {
    const message = relayFilesystemError(this.layout, error).message;
    if (this.problem === message) return;
    this.problem = message;
    this.noticeListener?.(`${message} Still waiting for the command(s).`);
  }

  /** Queue `text` as one command (`bash -c TEXT` on the server). */
  submit(text: string | Buffer, options: SubmitOptions = {}): RelayCommand {
    if (this.closed) throw this.closedError();
    const command = new PendingCommand(this, this.layout, newCommandId());
    this.pending.set(command.id, command);
    void command.submit(text, options);
    return command;
  }

  /**
   * Follow command `id` that another client submitted (attach): its output from the start,
   * and its exit code if this client sees it before its own client takes it (else 125).
   * Cancelling it asks the server to cancel it. Nothing of it is deleted.
   */
  follow(id: string): RelayCommand {
    if (this.closed) throw this.closedError();
    const command = new PendingCommand(this, this.layout, id);
    this.pending.set(id, command);
    command.follow();
    return command;
  }

  /**
   * Ask the server to cancel `id` (running or queued) and wait until it is no longer queued
   * or running. Returns its exit code if its result is still there to read: the client that
   * submitted it may already have taken and deleted it.
   */
  async cancel(id: string, timeoutMs = 30_000): Promise<number | undefined> {
    if (!isValidCommandId(id)) {
      throw new RelayError(
        'NOTHING_RUNNING',
        `${JSON.stringify(id)} is not a command id: ids look like 1763800000000000000_1234.`,
      );
    }
    const ours = this.pending.get(id);
    if (ours) {
      ours.cancel();
      return (await ours.exit).exitCode;
    }
    // Queued: withdraw it by rename, which no other client's cancel can overwrite.
    if (withdrawQueuedCommand(this.layout, id, 'cancelled before it started', { publish: true })) {
      return EXIT_CANCELLED;
    }
    if (!this.isQueuedOrRunning(id)) {
      const done = readTextIfExists(this.layout.exit(id));
      if (done !== undefined) return parseExitCode(done);
      throw new RelayError(
        'NOTHING_RUNNING',
        `command ${id} is neither queued nor running in ${this.layout.root}: there is nothing to cancel (relay-dap status lists what is).`,
      );
    }
    let exitCode: number | undefined;
    const finished = (): boolean => {
      const text = readTextIfExists(this.layout.exit(id));
      if (text !== undefined) exitCode = parseExitCode(text);
      return text !== undefined || !this.isQueuedOrRunning(id);
    };
    try {
      writeFileAtomic(this.layout.cancel, `${id}\n`);
    } catch (error) {
      throw diskFullError(this.layout, `cancel command ${id}`, error);
    }
    let writtenAt = performance.now();
    await this.waitFor(() => {
      if (finished()) return true;
      // Reassert if another client's cancel replaced ours (Part B, defect 8).
      if (
        performance.now() - writtenAt > CANCEL_REASSERT_MS &&
        readTextIfExists(this.layout.cancel)?.trim() !== id
      ) {
        writeFileAtomic(this.layout.cancel, `${id}\n`);
        writtenAt = performance.now();
      }
      return false;
    }, timeoutMs);
    return exitCode;
  }

  /** Queued (`cmd/<id>.sh`), being taken by a server (`cmd/.claimed.*.<id>`), or named by `running`. */
  isQueuedOrRunning(id: string): boolean {
    if (existsNoFollow(this.layout.command(id))) return true;
    if (runningNames(readTextIfExists(this.layout.running), id)) return true;
    return listDirectory(this.layout.cmdDir).some((name) => parseClaimedFileName(name)?.id === id);
  }

  serverLiveness(): ServerLiveness {
    return this.judge.judge();
  }

  status(): RelayStatus {
    const runningText = readTextIfExists(this.layout.running);
    const running = runningText?.trim() ? parseRunningMarker(runningText) : undefined;
    // What a server would run: regular files with a command's name (not a FIFO, a directory, a bad id).
    const pending = listDirectory(this.layout.cmdDir)
      .map(commandIdFromFileName)
      .filter(
        (id): id is string =>
          id !== undefined &&
          isValidCommandId(id) &&
          fs.lstatSync(this.layout.command(id), { throwIfNoEntry: false })?.isFile() === true,
      )
      .sort();
    return {
      relayDir: this.layout.root,
      server: this.judge.judge(),
      handshake: existsNoFollow(this.layout.handshakeDone)
        ? 'done'
        : existsNoFollow(this.layout.clientReady)
          ? 'requested'
          : 'none',
      running: running ? { id: running.id, pgid: running.pgid } : undefined,
      pending,
      watch: this.watchChoice,
    };
  }

  /**
   * Clear the handshake, the queue and all results (Part A). Refused while a live server runs
   * a command; a `running` left by a dead server no longer blocks it (Part B, defect 4).
   */
  flush(): FlushReport {
    const status = this.status();
    if (status.running && status.server.state === 'alive') {
      throw new RelayError(
        'BUSY',
        `command ${status.running.id} is running in ${this.layout.root}: cancel it first (relay-dap cancel) or wait for it to end.`,
      );
    }
    const clear = (dir: string): number =>
      listDirectory(dir).filter((name) => removeIfExists(`${dir}/${name}`)).length;
    removeIfExists(this.layout.clientReady);
    removeIfExists(this.layout.handshakeDone);
    const removedCommands = clear(this.layout.cmdDir);
    const removedResults = clear(this.layout.resultDir);
    let staleRunning: string | undefined;
    if (status.running) {
      staleRunning = status.running.id;
      const text = readTextIfExists(this.layout.running);
      if (text !== undefined) removeIfContent(this.layout.running, text);
    }
    return { removedCommands, removedResults, staleRunning };
  }

  /** Write `client.ready` and wait for `handshake.done` (Part A). */
  async handshake(timeoutMs = this.options.handshakeTimeoutMs ?? 10_000): Promise<string> {
    if (!existsNoFollow(this.layout.clientReady)) {
      try {
        writeFileAtomic(this.layout.clientReady, formatMarker(new Date().toISOString()));
      } catch (error) {
        throw diskFullError(this.layout, 'write client.ready to shake hands with the relay server', error);
      }
    }
    const answered = await this.waitFor(() => existsNoFollow(this.layout.handshakeDone), timeoutMs).then(
      () => true,
      () => false,
    );
    if (!answered) {
      const server = this.judge.judge();
      throw new RelayError(
        'HANDSHAKE_TIMEOUT',
        `no handshake.done in ${this.layout.root} after ${timeoutMs / 1000} s (${server.detail}): ` +
          (server.state === 'alive'
            ? 'the server is not answering handshakes.'
            : startServerHint(this.layout.root)),
      );
    }
    return parseMarker(readTextIfExists(this.layout.handshakeDone))?.raw ?? 'handshake.done';
  }

  /**
   * A server is up (waiting up to connectTimeoutMs for one) and the handshake is done.
   * Concurrent callers share one check: commands submitted together are then queued
   * together, in the order they were submitted, not each when its own wait happens to wake.
   */
  ensureServer(): Promise<void> {
    this.ensuring ??= this.checkServer().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  private async checkServer(): Promise<void> {
    let liveness = this.judge.judge();
    // A server.ready being written in place (Part A) gets a moment to be complete.
    const connectTimeoutMs = Math.max(
      this.options.connectTimeoutMs ?? 0,
      liveness.state === 'starting' ? 3000 : 0,
    );
    if (liveness.state !== 'alive' && connectTimeoutMs > 0) {
      await this.waitFor(() => (liveness = this.judge.judge()).state === 'alive', connectTimeoutMs).catch(
        () => {},
      );
    }
    if (liveness.state !== 'alive') {
      throw new RelayError(
        liveness.state === 'gone' ? 'SERVER_GONE' : 'NO_SERVER',
        `${liveness.detail}: ${startServerHint(this.layout.root)}.`,
      );
    }
    if (!existsNoFollow(this.layout.handshakeDone)) await this.handshake();
  }

  /** Resolves when `condition` holds, checked on every change and every 50 ms. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    try {
      if (condition()) return Promise.resolve();
    } catch (error) {
      return Promise.reject(relayFilesystemError(this.layout, error));
    }
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let met: boolean;
        try {
          met = condition();
        } catch (error) {
          // From a timer: an unusable directory ends this wait with a RelayError, not the process.
          cleanup();
          reject(relayFilesystemError(this.layout, error));
          return;
        }
        if (!met) return;
        cleanup();
        resolve();
      };
      const poll = setInterval(check, 50);
      // connectTimeout and handshake --timeout are the user's: any length (see longTimeout).
      const timeout = longTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearInterval(poll);
        timeout.clear();
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Called by a command that has settled. */
  forget(id: string): void {
    this.pending.delete(id);
  }

  private onChange(changed: string | undefined): void {
    if (changed !== undefined && changed.startsWith(this.layout.resultDir)) {
      const name = changed.slice(this.layout.resultDir.length + 1);
      const dot = name.lastIndexOf('.');
      const command = dot > 0 ? this.pending.get(name.slice(0, dot)) : undefined;
      if (command) {
        // A growing log raises an event per write: read it, and leave the result files alone.
        if (name.endsWith('.log')) command.onLogChange();
        else command.check();
        return;
      }
    }
    if (changed === undefined) this.pending.forEach((command) => command.check());
    this.waiters.forEach((check) => check());
  }

  /**
   * Where to tell a person waiting for a command of a condition worth knowing (a full disk),
   * one line each, said once while it lasts. Default: nowhere.
   */
  onNotice(listener: (line: string) => void): void {
    this.noticeListener = listener;
  }

  /** Tell the user of `line` (once). */
  notice(line: string): void {
    if (this.noticed.has(line)) return;
    this.noticed.add(line);
    this.noticeListener?.(line);
  }

  private periodic(): void {
    if (this.pending.size === 0) return;
    this.pending.forEach((command) => command.check());
    const liveness = this.judge.judge();
    if (liveness.state === 'alive' && liveness.diskFull !== undefined) {
      // Once per episode: the disk's free space changes the text, which must not repeat it.
      if (!this.diskFullNoticed) {
        this.noticeListener?.(
          `${liveness.diskFull}: relay server ${liveness.marker.host}:${liveness.marker.pid} is alive but cannot write there, ` +
            `so commands wait (an exit code gets through once there is room); ${freeSpaceHint(this.layout.root)}.`,
        );
      }
      this.diskFullNoticed = true;
    } else if (liveness.state === 'alive') {
      this.diskFullNoticed = false;
    }
    if (liveness.state === 'alive' || liveness.state === 'starting') return;
    const error = new RelayError(
      liveness.state === 'none' ? 'NO_SERVER' : 'SERVER_GONE',
      `${liveness.detail}: ${startServerHint(this.layout.root)}.`,
    );
    // A result that landed just before the server went away still counts.
    this.pending.forEach((command) => command.check());
    this.pending.forEach((command) => command.fail(error));
  }

  /** Stop watching. Commands still pending are abandoned (not cancelled): say so first if it matters. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.leaseTimer);
    const error = new Error('the relay client was closed before the command ended');
    this.pending.forEach((command) => command.fail(error));
    this.watcher?.close();
    return Promise.resolve();
  }
}

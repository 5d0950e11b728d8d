/**
 * The relay client library: submit a command text, stream its output while it runs, learn
 * its exit code, cancel it (through an AbortSignal too), and read the relay's status. Each
 * command is a PendingCommand (relayCommand.ts); status and flush are in relayStatus.ts.
 *
 * One RelayClient shares one watcher and one liveness timer among all its commands, so a
 * debug session with a step and several console commands in flight costs one of each.
 * It speaks Part A to any server: it performs the handshake when `handshake.done` is
 * missing, and cancels by writing `cancel` — again if another client's cancel replaced it.
 *
 * Concurrency model: as in the server, every read and write of relay files is synchronous
 * and runs on the event loop, so no two checks interleave; a command's output is the one
 * thing read asynchronously (its LogFollower, one read at a time). What drives the checks:
 * - the watcher (filesystem events on the relay directory and `result/`, or polling): a
 *   change to a command's log reads its output, to its result files checks it; any other
 *   change runs the waits (and, when the watcher cannot say what changed, checks every command);
 * - the liveness timer, every 250 ms while a command is pending: checks every command (a
 *   lost event costs at most that), then the server; a server gone fails them all, a full
 *   disk is said once per episode;
 * - the lease timer, every second: touches the lease of each command that holds one;
 * - each `waitFor` (connect, handshake, cancel by id): a 50 ms poll and a timeout of any
 *   length (longTimeout), both cleared when it settles; `open` polls every 50 ms for the
 *   directory while connectTimeoutMs lasts.
 * Watcher and timer callbacks run through `guard`: an error there (a directory made
 * unreadable) is reported once as a notice, never thrown out of a timer. Submissions await
 * `ensureServer`, one check shared by all commands submitted together. `close` stops the
 * watcher and both timers and fails pending commands; a running `waitFor` ends by its own
 * condition or timeout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { longTimeout } from '../time/longTimeout.js';
import { ChangeWatcher } from './changeWatcher.js';
import { RelayChannel, type ChannelRequest } from './channel.js';
import { diskFullError, freeSpaceHint } from './diskSpace.js';
import { RelayError, startServerHint } from './errors.js';
import { existsNoFollow, listDirectory, readTextIfExists, writeFileAtomic } from './files.js';
import { isValidCommandId, newCommandId } from './ids.js';
import { parseClaimedFileName, type RelayLayout } from './layout.js';
import { DEFAULT_STALE_AFTER_MS, ServerLivenessJudge, type ServerLiveness } from './liveness.js';
import { formatMarker, parseMarker } from './markers.js';
import { openRelayDirectory, relayFilesystemError } from './relayDirectory.js';
import {
  CANCEL_REASSERT_MS,
  PendingCommand,
  type CommandHost,
  type RelayCommand,
  type SubmitOptions,
} from './relayCommand.js';
import { flushRelay, readRelayStatus, type FlushReport, type RelayStatus } from './relayStatus.js';
import { EXIT_CANCELLED, parseExitCode } from './results.js';
import { runningNames } from './runningMarker.js';
import { chooseWatchMode, type WatchChoice } from './watchMode.js';
import { withdrawQueuedCommand } from './withdraw.js';

export type { CommandOutcome, RelayCommand, SubmitOptions } from './relayCommand.js';
export type { FlushReport, RelayStatus } from './relayStatus.js';
export type { ChannelExit, ChannelRequest, RelayChannel } from './channel.js';

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

/** The liveness timer: how often every pending command and the server are checked. */
const LIVENESS_CHECK_MS = 250;
/** The lease timer: how often a held lease is touched (the server's default stale age is 10 s). */
const LEASE_REFRESH_MS = 1000;

export class RelayClient implements CommandHost {
  readonly layout: RelayLayout;
  readonly watchChoice: WatchChoice;
  private readonly judge: ServerLivenessJudge;
  private readonly pending = new Map<string, PendingCommand>();
  private readonly channels = new Set<RelayChannel>();
  private readonly waiters = new Set<() => void>();
  private watcher: ChangeWatcher | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private ensuring: Promise<void> | undefined;
  private readonly noticed = new Set<string>();
  private diskFullNoticed = false;
  private noticeListener: ((line: string) => void) | undefined;
  /** The problem last reported through the notice listener, until a check succeeds again. */
  private problem: string | undefined;

  private constructor(private readonly options: RelayClientOptions) {
    this.layout = openRelayDirectory(options.relayDir, options.connectTimeoutMs);
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
    client.livenessTimer = setInterval(() => client.guard(() => client.periodic(), true), LIVENESS_CHECK_MS);
    client.leaseTimer = setInterval(
      () => client.guard(() => client.pending.forEach((command) => command.refreshLease())),
      LEASE_REFRESH_MS,
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
   * Why the live server would refuse a channel (NO_CHANNELS: a Part-A shell server, or a
   * relay-dap older than channels), or undefined if it opens them or no server is judged alive
   * (openChannel then waits for one). For callers that must know before they promise a channel
   * to someone else (a terminal the editor would open).
   */
  channelsRefusal(): RelayError | undefined {
    const server = this.judge.judge();
    if (server.state !== 'alive') return undefined;
    const announced = readTextIfExists(this.layout.channelsReady);
    if (!server.partA && announced?.trim() === server.marker.raw) return undefined;
    return new RelayError(
      'NO_CHANNELS',
      `${server.detail} does not open channels (${server.partA ? 'a Part-A shell server' : 'no channels.ready from it: a relay-dap older than channels'}): ` +
        `serve ${this.layout.root} with a current relay-dap (relay-dap serve --relay-dir ${this.layout.root}) to use channels and relay-dap shell.`,
    );
  }

  /**
   * Open a channel (Part D): a byte stream to a process the server starts now, beside its
   * queue. Fails with NO_CHANNELS, saying so, when the server does not announce channels.
   */
  async openChannel(request: ChannelRequest): Promise<RelayChannel> {
    if (this.closed) throw this.closedError();
    await this.ensureServer();
    const refusal = this.channelsRefusal();
    if (refusal) throw refusal;
    const channel = new RelayChannel(
      { layout: this.layout, watchChoice: this.watchChoice, serverLiveness: () => this.judge.judge() },
      request,
    );
    this.channels.add(channel);
    void channel.exit.finally(() => this.channels.delete(channel)).catch(() => {});
    return channel;
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
      throw diskFullError(this.layout.root, `cancel command ${id}`, error);
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
    return readRelayStatus(this.layout, this.judge.judge(), this.watchChoice);
  }

  /**
   * Clear the handshake, the queue and all results (Part A). Refused while a live server runs
   * a command; a `running` left by a dead server no longer blocks it (Part B, defect 4).
   */
  flush(): FlushReport {
    return flushRelay(this.layout, this.status());
  }

  /** Write `client.ready` and wait for `handshake.done` (Part A). */
  async handshake(timeoutMs = this.options.handshakeTimeoutMs ?? 10_000): Promise<string> {
    if (!existsNoFollow(this.layout.clientReady)) {
      try {
        writeFileAtomic(this.layout.clientReady, formatMarker(new Date().toISOString()));
      } catch (error) {
        throw diskFullError(
          this.layout.root,
          'write client.ready to shake hands with the relay server',
          error,
        );
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
      // Saying how long we waited tells a user whether a longer connectTimeout could help.
      const waited = connectTimeoutMs > 0 ? ` after waiting ${connectTimeoutMs / 1000} s` : '';
      throw new RelayError(
        liveness.state === 'gone' ? 'SERVER_GONE' : 'NO_SERVER',
        `${liveness.detail}${waited}: ${startServerHint(this.layout.root)}.`,
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
    clearInterval(this.livenessTimer);
    clearInterval(this.leaseTimer);
    const error = new Error('the relay client was closed before the command ended');
    this.pending.forEach((command) => command.fail(error));
    // A channel outlives no session: its process is cancelled, and its files go once it has ended.
    this.channels.forEach((channel) => channel.destroy());
    this.watcher?.close();
    return Promise.resolve();
  }
}

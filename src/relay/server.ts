/**
 * The relay server: takes commands from `cmd/` one at a time in id order, runs each in its
 * own session, and publishes `running`, the live log, `result/<id>.json` and `.exit` in the
 * order Part A fixes. Adds the Part C heartbeat, ownership with step-down, settlement of
 * what a dead predecessor left, whole-tree kills, and leases. This file is the server's life
 * (start, stand by, serve, step down, stop) and its loop; what the loop does has a file each:
 * claiming a command (commandClaim.ts), running it (runningCommand.ts), answering `cancel`
 * (cancelRequest.ts), publishing a result (resultPublisher.ts), settling a dead predecessor's
 * leftovers (leftoverSettlement.ts), and saying things once (serverConsole.ts).
 *
 * Concurrency model: everything that touches relay files runs synchronously inside `pump()`
 * or `tick()` on the event loop, so no two of them interleave; the parts above are called
 * from there. The only asynchronous work is waiting for a command's processes
 * (RunningCommand) and settling an orphan (LeftoverSettlement); both re-enter through
 * `pump()` when they finish. Events only make `pump()` run sooner; the one-second `tick()`
 * runs it too, so a lost event costs at most a second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { answerCancelRequest } from './cancelRequest.js';
import { ChangeWatcher } from './changeWatcher.js';
import { ChannelHost } from './channelHost.js';
import { CommandClaimer, type ClaimedCommand } from './commandClaim.js';
import { CommandQueue } from './commandQueue.js';
import { describeFullDisk, freeSpaceHint, isDiskFull, SpaceReserve } from './diskSpace.js';
import { isRelayError } from './errors.js';
import {
  existsNoFollow,
  fileOfWriteError,
  isNotFound,
  isPermissionDenied,
  readTextIfExists,
  removeIfContent,
  removeIfExists,
  touch,
  writeFileAtomic,
} from './files.js';
import { epochNanosecondsString } from './ids.js';
import type { RelayLayout } from './layout.js';
import { LeftoverSettlement } from './leftoverSettlement.js';
import { ChangeClock, ServerLivenessJudge, type ServerLiveness } from './liveness.js';
import { formatMarker, type Marker } from './markers.js';
import { PartAStandby } from './partAStandby.js';
import { DEFAULT_GRACE_MS } from './processTree.js';
import { prepareRelayDirectory, relayFilesystemError, verifyRelayDirectory } from './relayDirectory.js';
import { ResultPublisher } from './resultPublisher.js';
import { EXIT_RELAY_LOST, resultWithoutRun, type ResultRecord } from './results.js';
import { RunningCommand } from './runningCommand.js';
import { formatRunningMarker } from './runningMarker.js';
import { ServerConsole } from './serverConsole.js';
import { chooseWatchMode, type WatchChoice } from './watchMode.js';

export const DEFAULT_LEASE_STALE_MS = 10_000;
const HEARTBEAT_MS = 1000;

export interface RelayServerOptions {
  relayDir: string;
  /** Where commands run (default: the current directory). */
  workdir?: string;
  /** SIGTERM → SIGKILL grace period (default 5 s). */
  graceMs?: number;
  /** Force polling at this interval instead of filesystem events. */
  pollMs?: number;
  /** Print command texts in the console (default: ids only). */
  logCommands?: boolean;
  /** Environment of the commands (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Console lines; default: none. */
  log?: (line: string) => void;
  /** A command whose lease file is not refreshed for this long is cancelled (default 10 s). */
  leaseStaleMs?: number;
}

/** Why a relay server stopped serving (not a job's pause: that is the model's StopReason). */
export type ServerStopReason = 'shutdown' | 'stepped-down';
type State = 'standing-by' | 'serving' | 'unavailable' | 'stepping-down' | 'stopping' | 'stopped';

interface RunningEntry {
  command: RunningCommand;
  runningText: string | undefined;
}

export class RelayServer {
  readonly layout: RelayLayout;
  readonly watchChoice: WatchChoice;
  readonly stopped: Promise<ServerStopReason>;
  private readonly workdir: string;
  private readonly graceMs: number;
  private readonly leaseStaleMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (line: string) => void;
  /** Names this server's claimed command files; never holds a dot (see layout). */
  private readonly claimToken = randomBytes(6).toString('hex');
  private readonly ownerText = formatMarker(epochNanosecondsString());
  private readonly readyText = formatMarker(new Date().toISOString());
  private readonly clock = new ChangeClock();
  private readonly judge: ServerLivenessJudge;
  private state: State = 'serving';
  private current: RunningEntry | undefined;
  private predecessor: Marker | undefined;
  private standby: PartAStandby | undefined;
  private watcher: ChangeWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private launchBlockedUntil = 0;
  private readonly queue: CommandQueue;
  private readonly serverConsole: ServerConsole;
  private readonly reserve: SpaceReserve;
  private readonly publisher: ResultPublisher;
  private readonly leftovers: LeftoverSettlement;
  private readonly claimer: CommandClaimer;
  /** Channels (Part D): beside the one queued command, never in its queue. */
  private readonly channels: ChannelHost;
  private resolveStopped!: (reason: ServerStopReason) => void;

  private constructor(private readonly options: RelayServerOptions) {
    this.layout = prepareRelayDirectory(options.relayDir);
    this.workdir = options.workdir ?? process.cwd();
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.leaseStaleMs = options.leaseStaleMs ?? DEFAULT_LEASE_STALE_MS;
    this.env = options.env ?? process.env;
    this.serverConsole = new ServerConsole(this.layout.root, options.log);
    this.log = this.serverConsole.log;
    this.watchChoice = chooseWatchMode(this.layout.root, options.pollMs);
    this.reserve = new SpaceReserve(this.layout.spaceReserve);
    this.publisher = new ResultPublisher(this.layout, this.reserve, this.serverConsole);
    this.leftovers = new LeftoverSettlement({
      layout: this.layout,
      claimToken: this.claimToken,
      graceMs: this.graceMs,
      clock: this.clock,
      serverConsole: this.serverConsole,
      publisher: this.publisher,
      onSettled: () => this.pump(),
    });
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.judge = new ServerLivenessJudge(this.layout);
    this.queue = new CommandQueue(this.layout, (name, reason) =>
      this.serverConsole.warnOnce(`id:${name}`, `leaving cmd/${name} alone: its id is ${reason}`),
    );
    this.channels = new ChannelHost({
      layout: this.layout,
      watchChoice: this.watchChoice,
      claimToken: this.claimToken,
      readyText: this.readyText,
      workdir: this.workdir,
      env: this.env,
      graceMs: this.graceMs,
      leaseStaleMs: this.leaseStaleMs,
      clock: this.clock,
      log: this.log,
      warnOnce: (key, line) => this.serverConsole.warnOnce(key, line),
    });
    this.claimer = new CommandClaimer(
      this.layout,
      this.queue,
      this.claimToken,
      this.serverConsole,
      this.publisher,
    );
  }

  /** Claims the directory, settles what a dead predecessor left, and starts serving. */
  static async start(options: RelayServerOptions): Promise<RelayServer> {
    const server = new RelayServer(options);
    server.begin();
    return server;
  }

  get pid(): number {
    return process.pid;
  }

  /** The command running now, if any. */
  get runningId(): string | undefined {
    return this.current?.command.id;
  }

  private begin(): void {
    let workdirStat: fs.Stats | undefined;
    try {
      workdirStat = fs.statSync(this.workdir);
    } catch {
      workdirStat = undefined;
    }
    if (!workdirStat?.isDirectory()) {
      throw new Error(`workdir ${this.workdir} is not a directory: create it, or pass --workdir DIR.`);
    }
    const previous = this.judge.judge();
    if (previous.state === 'alive' && previous.partA) return this.standBy(previous);
    this.takeOver(previous);
  }

  private takeOver(previous: ServerLiveness): void {
    this.claim();
    if (previous.state === 'alive' && previous.marker.raw !== this.readyText.trim()) {
      this.predecessor = previous.marker;
      this.log(
        `${previous.detail} was serving ${this.layout.root}; this server takes it over, and that one steps down once its running command ends`,
      );
    } else if (previous.state === 'gone') {
      this.log(`${previous.detail}; settling what it left`);
      this.leftovers.settle(previous.marker);
    }
    this.keepReserve();
    this.timer ??= setInterval(() => this.tick(), HEARTBEAT_MS);
    this.startWatcher();
    this.channels.start(previous.state === 'gone');
    this.log(
      `serving ${this.layout.root}: ${this.watchChoice.reason}; workdir ${this.workdir}; grace ${this.graceMs / 1000} s`,
    );
    this.queue.rescan();
    this.pump();
  }

  /**
   * Write a first heartbeat, owner and server.ready (each atomically: Part B, defect 11). The
   * heartbeat comes first: a server.ready without its heartbeat is how a Part-A server looks.
   */
  private claim(): void {
    this.beat();
    writeFileAtomic(this.layout.owner, this.ownerText);
    writeFileAtomic(this.layout.serverReady, this.readyText);
  }

  /** A live Part-A server owns the directory: stand by (see partAStandby.ts) until it is gone. */
  private standBy(server: ServerLiveness & { state: 'alive' }): void {
    this.state = 'standing-by';
    this.standby = new PartAStandby({
      layout: this.layout,
      judge: this.judge,
      server,
      watchChoice: this.watchChoice,
      log: this.log,
      onError: (error) => this.serverConsole.reportFilesystemError(error),
      onGone: (now) => {
        this.standby = undefined;
        if (this.state !== 'standing-by') return;
        this.state = 'serving';
        // One that stopped without settling its command (Part B, defect 5: a command that
        // ignores SIGTERM outlives it) is still the predecessor whose leftovers those are.
        if (now.state === 'none' || now.state === 'starting') this.predecessor = server.marker;
        try {
          this.takeOver(now);
        } catch (error) {
          this.directoryUnavailable(error);
        }
      },
    });
  }

  private beat(): void {
    try {
      writeFileAtomic(this.layout.heartbeat, formatMarker(String(Date.now())));
    } catch (error) {
      // A full disk: new content needs a block, a new mtime does not. Clients then see a
      // server that is alive but cannot write (and ask statfs why), not a dead one.
      if (isDiskFull(error)) touch(this.layout.heartbeat);
      throw error;
    }
  }

  /** The space a result is written into when the disk is full (see writeResultMakingRoom). */
  private keepReserve(): void {
    let kept: boolean;
    try {
      kept = this.reserve.ensure();
    } catch (error) {
      // Something else in its place (a directory, a link): serve on without a reserve.
      return this.serverConsole.warnOnce(
        'reserve:error',
        `cannot keep the server's reserve ${this.layout.spaceReserve} (${(error as Error).message}): the exit code of a command that fills the disk may not get through`,
      );
    }
    if (kept) return;
    this.serverConsole.warnOnce(
      'reserve',
      `${describeFullDisk(this.layout.root) ?? `the disk holding relay directory ${this.layout.root} is nearly full`}: ` +
        `no room for the server's reserve (${this.layout.spaceReserve}), so the exit code of a command that fills it may not get through; ${freeSpaceHint(this.layout.root)}`,
    );
  }

  private startWatcher(): void {
    this.watcher?.close();
    this.watcher = new ChangeWatcher(
      [this.layout.root, this.layout.cmdDir],
      this.watchChoice,
      (changed) => {
        try {
          if (changed === undefined) this.queue.rescan();
          else this.queue.noteChange(changed);
        } catch (error) {
          // cmd/ made unreadable (chmod 000): the directory is unusable, as when it is
          // deleted; the tick says so and recovers when it is back. Never a crash.
          this.directoryUnavailable(relayFilesystemError(this.layout, error));
          return;
        }
        this.pump();
      },
      (message) => this.serverConsole.warnOnce(message, message),
      (dir) =>
        this.log(
          `${dir} was replaced (removed and created again, as a Part-A flush does); watching the new one`,
        ),
    );
  }

  /** One pass over everything a client may have changed. Synchronous: see the file comment. */
  private pump(): void {
    if (this.state !== 'serving' && this.state !== 'stepping-down') return;
    try {
      this.answerHandshake();
      answerCancelRequest({
        layout: this.layout,
        serverConsole: this.serverConsole,
        claimToken: this.claimToken,
        running: this.current?.command,
        serving: this.state === 'serving',
      });
      if (
        this.state === 'serving' &&
        !this.current &&
        !this.leftovers.busy &&
        !this.leftovers.foreignCommandRunning(this.predecessor)
      ) {
        this.startNext();
      }
    } catch (error) {
      // A directory made unreadable (chmod 000) is unusable, as a deleted one is: said once, and
      // the tick brings the server back when it is fixed.
      if (isPermissionDenied(error) || isRelayError(error, 'RELAY_DIR')) {
        this.directoryUnavailable(relayFilesystemError(this.layout, error));
      } else {
        this.serverConsole.reportFilesystemError(error);
      }
    }
  }

  private answerHandshake(): void {
    if (this.state !== 'serving') return;
    if (existsNoFollow(this.layout.clientReady) && !existsNoFollow(this.layout.handshakeDone)) {
      writeFileAtomic(this.layout.handshakeDone, formatMarker(new Date().toISOString()));
    }
  }

  private startNext(): void {
    if (performance.now() < this.launchBlockedUntil) return;
    if (!this.stillOwner()) return this.stepDown();
    verifyRelayDirectory(this.layout, { writable: false });
    if (this.queue.snapshot().length > 0) {
      // A command started now could not even have `running` written for it.
      const full = describeFullDisk(this.layout.root);
      if (full !== undefined) {
        this.launchBlockedUntil = performance.now() + 1000;
        return this.serverConsole.reportDiskFull(`${full}: queued commands wait until there is room`);
      }
    }
    let claimed: ClaimedCommand | undefined;
    try {
      claimed = this.claimer.claimNext();
    } catch (error) {
      // Try again in a second, not in a loop driven by the rename's own events.
      this.launchBlockedUntil = performance.now() + 1000;
      throw error;
    }
    if (claimed) this.launch(claimed);
  }

  private launch(claimed: ClaimedCommand): void {
    const { id, text } = claimed;
    let command: RunningCommand;
    try {
      // "Any stale cancel is deleted when a command starts" (Part A).
      const cancel = readTextIfExists(this.layout.cancel);
      if (cancel !== undefined && cancel.trim() !== id) removeIfContent(this.layout.cancel, cancel);
      command = new RunningCommand({
        id,
        text,
        textFile: claimed.file,
        logPath: this.layout.log(id),
        workdir: this.workdir,
        env: this.env,
        graceMs: this.graceMs,
      });
    } catch (error) {
      // Nothing ran: put the command back so that it is not lost, and say why; try again in
      // a second, not in a loop driven by the rename's own events.
      this.claimer.putBack(claimed);
      this.launchBlockedUntil = performance.now() + 1000;
      throw error;
    }
    const runningText = command.pid !== null ? formatRunningMarker(id, command.pid) : undefined;
    this.current = { command, runningText };
    // Before anything below can throw (a disk that filled up since the check): the command
    // runs, so its result must be published whatever happens to `running`.
    command.done
      .then(
        (record) => this.complete(record),
        (error: unknown) => this.complete(resultWithoutRun(id, EXIT_RELAY_LOST, { note: String(error) })),
      )
      .catch((error: unknown) => this.serverConsole.reportFilesystemError(error));
    // Command texts may hold secrets: shown only when asked (Part B, defect 9).
    const shown = this.options.logCommands ? `: ${JSON.stringify(text.toString('utf8'))}` : '';
    this.log(`[${id}] started, pid ${command.pid ?? '-'}${shown}`);
    if (runningText) writeFileAtomic(this.layout.running, runningText);
    removeIfExists(claimed.file);
  }

  private complete(record: ResultRecord): void {
    this.publish(record);
    const took = record.durationMs === null ? '' : ` in ${record.durationMs} ms`;
    const extra = record.leftoverProcesses
      ? `; stopped ${record.leftoverProcesses} leftover process(es)`
      : '';
    this.log(`[${record.id}] ${record.cancelled ? 'cancelled' : 'exit ' + record.exitCode}${took}${extra}`);
    this.current = undefined;
    if (this.state === 'stepping-down') this.finishStepDown();
    else this.pump();
  }

  /** Publish `record` (see ResultPublisher), our `running` for it included if we run it. */
  private publish(record: ResultRecord): void {
    const runningText = this.current?.command.id === record.id ? this.current.runningText : undefined;
    this.publisher.publish(record, runningText);
  }

  private stillOwner(): boolean {
    const owner = readTextIfExists(this.layout.owner);
    if (owner === undefined) {
      // Removed by hand while we live: claim it again (the directory itself is checked in tick).
      writeFileAtomic(this.layout.owner, this.ownerText);
      return true;
    }
    return owner === this.ownerText;
  }

  private stepDown(): void {
    if (this.state !== 'serving' && this.state !== 'unavailable') return;
    const running = this.current?.command.id;
    this.log(
      `another relay server claimed ${this.layout.root} (owner: ${readTextIfExists(this.layout.owner)?.trim() ?? '?'}); ` +
        (running ? `this server steps down once command ${running} ends` : 'this server steps down'),
    );
    this.state = 'stepping-down';
    if (!running) this.finishStepDown();
  }

  private finishStepDown(): void {
    void this.channels.stop();
    this.shutdownResources();
    removeIfContent(this.layout.serverReady, this.readyText);
    this.state = 'stopped';
    this.resolveStopped('stepped-down');
  }

  private tick(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.state === 'standing-by') return; // the standby checks for itself
    if (this.state === 'stepping-down') {
      // Our command still runs: a sign of life for the server that took over.
      if (this.current) touch(this.layout.running);
      this.pump();
      return;
    }
    try {
      if (!fs.existsSync(this.layout.root)) {
        throw Object.assign(new Error(`relay directory ${this.layout.root} is gone`), { code: 'ENOENT' });
      }
      if (this.state === 'unavailable') this.recoverDirectory();
      // A cmd/ or result/ swapped for a symlink while serving would send commands and results
      // elsewhere: checked every second, and before every claim.
      verifyRelayDirectory(this.layout);
      if (!this.stillOwner()) return this.stepDown();
      // Two servers racing to start can leave the other's server.ready (or none): the owner's wins.
      if (readTextIfExists(this.layout.serverReady) !== this.readyText) {
        writeFileAtomic(this.layout.serverReady, this.readyText);
      }
      this.beat();
      this.serverConsole.diskHasRoom();
      this.keepReserve();
      this.publisher.removeStaleMarkers();
      if (this.current) touch(this.layout.running);
      this.publisher.retryUnpublished();
      this.checkLease();
      this.channels.tick();
    } catch (error) {
      this.directoryUnavailable(error);
      // A server that refuses to work (cmd/ swapped for a link, say) is still alive, and says
      // so while the relay directory itself can be written.
      try {
        if (this.stillOwner()) this.beat();
      } catch {
        // The directory itself is unusable: no heartbeat, and clients learn the server is gone.
      }
      return;
    }
    this.pump();
  }

  private directoryUnavailable(error: unknown): void {
    if (isDiskFull(error)) {
      const file = fileOfWriteError(error);
      this.serverConsole.reportDiskFull(
        `${describeFullDisk(this.layout.root, error) ?? 'the disk is full'}: could not write ` +
          `${file ? path.relative(this.layout.root, file) : 'a relay file'} (${(error as NodeJS.ErrnoException).code}). ` +
          `Running commands go on; no new ones start until there is room: ${freeSpaceHint(this.layout.root)}.`,
      );
    } else if (this.state !== 'unavailable') {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      // A relay-directory check already names the thing, the reason and the next step.
      const what = isRelayError(error)
        ? error.message
        : isNotFound(error)
          ? `relay directory ${this.layout.root} is gone (${code}); waiting for it to come back.`
          : `relay directory ${this.layout.root} is not usable (${code}: ${(error as Error).message}); retrying every second.`;
      this.log(`${what} Running commands go on; no new ones start until it is fixed.`);
    }
    this.state = 'unavailable';
  }

  private recoverDirectory(): void {
    prepareRelayDirectory(this.layout.root);
    this.claim();
    this.state = 'serving';
    this.log(`relay directory ${this.layout.root} is usable again; serving`);
    this.queue.rescan();
    this.startWatcher();
    this.channels.start();
  }

  private checkLease(): void {
    const command = this.current?.command;
    if (!command || command.cancelRequested) return;
    let mtime: number;
    try {
      mtime = fs.statSync(this.layout.lease(command.id)).mtimeMs;
    } catch {
      return; // no lease: the client did not ask for one
    }
    const age = this.clock.sinceChange(`lease:${command.id}`, String(mtime));
    if (age > this.leaseStaleMs) {
      this.log(
        `[${command.id}] lease not refreshed for ${(age / 1000).toFixed(1)} s: its client is gone; cancelling`,
      );
      command.cancel('lease expired: its client stopped refreshing it');
    }
  }

  private shutdownResources(): void {
    this.standby?.close();
    this.standby = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * Shut down (SIGINT/SIGTERM): cancel the running command with the full escalation, wait
   * for its result, then remove our markers. Queued commands stay for the next server.
   * Called again while stopping, it skips the rest of the grace period.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.current?.command.killNow();
      await this.stopped;
      return;
    }
    const wasSteppingDown = this.state === 'stepping-down';
    this.state = 'stopping';
    // Channels stop beside the command, each with its own grace period.
    const channelsStopped = this.channels.stop();
    const entry = this.current;
    if (entry) {
      this.log(
        `shutting down: cancelling ${entry.command.id} (SIGTERM, then SIGKILL after ${this.graceMs / 1000} s)`,
      );
      entry.command.cancel('relay server shutting down');
      const record = await entry.command.done;
      this.publish(record);
      this.current = undefined;
      this.log(`[${record.id}] cancelled by shutdown`);
    }
    await channelsStopped;
    this.shutdownResources();
    try {
      removeIfContent(this.layout.serverReady, this.readyText);
      if (!wasSteppingDown) {
        this.reserve.release();
        removeIfContent(this.layout.owner, this.ownerText);
        const heartbeat = readTextIfExists(this.layout.heartbeat);
        if (heartbeat?.startsWith(`${os.hostname()}:${process.pid}:`))
          removeIfContent(this.layout.heartbeat, heartbeat);
      }
    } catch (error) {
      // An unusable directory at shutdown: the markers stay, and a client judges the server
      // by its heartbeat, which stops now.
      this.serverConsole.reportFilesystemError(error);
    }
    this.state = 'stopped';
    this.log('stopped');
    this.resolveStopped('shutdown');
  }
}

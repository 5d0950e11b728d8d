/**
 * The relay server: takes commands from `cmd/` one at a time in id order, runs each in its
 * own session, and publishes `running`, the live log, `result/<id>.json` and `.exit` in the
 * order Part A fixes. Adds the Part C heartbeat, ownership with step-down, settlement of
 * what a dead predecessor left, whole-tree kills, and leases.
 *
 * Concurrency model: everything that touches relay files runs synchronously inside `pump()`
 * or `tick()` on the event loop, so no two of them interleave. The only asynchronous work is
 * waiting for a command's processes (RunningCommand) and settling an orphan; both re-enter
 * through `pump()` when they finish. Events only make `pump()` run sooner; the one-second
 * `tick()` runs it too, so a lost event costs at most a second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ChangeWatcher } from './changeWatcher.js';
import { describeFullDisk, freeSpaceHint, isDiskFull, SpaceReserve } from './diskSpace.js';
import {
  existsNoFollow,
  fileOfWriteError,
  isNotFound,
  isPermissionDenied,
  listDirectory,
  readTextIfExists,
  removeIfContent,
  removeIfExists,
  renameIfExists,
  touch,
  writeFileAtomic,
} from './files.js';
import { describeInvalidId, epochNanosecondsString, isValidCommandId } from './ids.js';
import { parseClaimedFileName, type RelayLayout } from './layout.js';
import {
  ChangeClock,
  DEFAULT_STALE_AFTER_MS,
  ServerLivenessJudge,
  runningFileAge,
  type ServerLiveness,
} from './liveness.js';
import { describeMarker, formatMarker, isProcessAlive, isThisHost, type Marker } from './markers.js';
import {
  checkRecordedGroup,
  DEFAULT_GRACE_MS,
  terminateCommandProcesses,
  type RecordedGroupCheck,
  type TerminationReport,
} from './processTree.js';
import {
  formatRunningMarker,
  readRunningMarker,
  runningNames,
  type RunningMarkerOnDisk,
} from './runningMarker.js';
import { isRelayError } from './errors.js';
import { describeUid, selfUid } from '../io/fileOwner.js';
import {
  foreignFileError,
  prepareRelayDirectory,
  relayFilesystemError,
  uidMismatchHint,
  verifyRelayDirectory,
} from './relayDirectory.js';
import {
  CANCELLED_LINE,
  EXIT_CANCELLED,
  EXIT_CANNOT_EXECUTE,
  EXIT_RELAY_LOST,
  resultWithoutRun,
  writeResultMakingRoom,
  type ResultRecord,
} from './results.js';
import { PartAStandby } from './partAStandby.js';
import { RunningCommand } from './runningCommand.js';
import { CommandQueue } from './commandQueue.js';
import { chooseWatchMode, type WatchChoice } from './watchMode.js';
import { withdrawQueuedCommand } from './withdraw.js';

export const DEFAULT_LEASE_STALE_MS = 10_000;
const HEARTBEAT_MS = 1000;

function fileKind(
  stat: fs.Stats | undefined,
): 'file' | 'missing' | 'directory' | 'FIFO' | 'symlink' | 'special file' {
  if (!stat) return 'missing';
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'special file';
}

/** A claimed command file's bytes; never blocks (a FIFO swapped in), never follows a link, only ours. */
function readCommandFile(file: string): Buffer {
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    // The owner was checked on the name before the claim; this is the file actually read.
    if (stat.uid !== selfUid()) throw Object.assign(new Error(`${file} is not ours`), { code: 'EACCES' });
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

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

/** What a dead server left of one command: the `running` that names it, a claimed command file. */
interface Leftover {
  running?: RunningMarkerOnDisk;
  claimedFile?: string;
}

/**
 * What the settlement of an orphan found and stopped, truthfully: the recorded process group
 * is named, and so is a group that was left alone because it is no longer the command's.
 */
function describeOrphanKill(
  report: TerminationReport,
  group: RecordedGroupCheck | undefined,
  recordedPgid: number | undefined,
): string {
  const parts: string[] = [];
  if (report.signalled > 0) {
    const where =
      group?.verdict === 'command' ? ` (its process group ${group.pgid} and what it started)` : '';
    parts.push(`stopped ${report.signalled} of its processes that were still running${where}`);
  } else {
    parts.push('none of its processes was still running');
  }
  if (group?.verdict === 'other') {
    parts.push(`process group ${group.pgid} was left alone: ${group.reason}`);
  } else if (group === undefined && recordedPgid !== undefined && report.signalled === 0) {
    parts.push(`process group ${recordedPgid} was not looked at: the server that ran it is unknown`);
  }
  if (report.survivors.length > 0) {
    parts.push(`${report.survivors.length} survived SIGKILL (pids ${report.survivors.join(', ')})`);
  }
  return parts.join('; ');
}

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
  private settling: Promise<void> | undefined;
  private predecessor: Marker | undefined;
  private standby: PartAStandby | undefined;
  private watcher: ChangeWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unpublished: ResultRecord[] = [];
  private launchBlockedUntil = 0;
  private diskFullReported = false;
  /** `running` texts we wrote for commands that have ended, still to be removed. */
  private readonly ownRunningTexts = new Set<string>();
  private readonly queue: CommandQueue;
  private readonly warned = new Set<string>();
  private readonly reserve: SpaceReserve;
  private resolveStopped!: (reason: ServerStopReason) => void;

  private constructor(private readonly options: RelayServerOptions) {
    this.layout = prepareRelayDirectory(options.relayDir);
    this.workdir = options.workdir ?? process.cwd();
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.leaseStaleMs = options.leaseStaleMs ?? DEFAULT_LEASE_STALE_MS;
    this.env = options.env ?? process.env;
    this.log = options.log ?? (() => {});
    this.watchChoice = chooseWatchMode(this.layout.root, options.pollMs);
    this.reserve = new SpaceReserve(this.layout.spaceReserve);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.judge = new ServerLivenessJudge(this.layout);
    this.queue = new CommandQueue(this.layout, (name, reason) =>
      this.warnOnce(`id:${name}`, `leaving cmd/${name} alone: its id is ${reason}`),
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
      this.settleLeftovers(previous.marker);
    }
    this.keepReserve();
    this.timer ??= setInterval(() => this.tick(), HEARTBEAT_MS);
    this.startWatcher();
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
      onError: (error) => this.reportFilesystemError(error),
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
      return this.warnOnce(
        'reserve:error',
        `cannot keep the server's reserve ${this.layout.spaceReserve} (${(error as Error).message}): the exit code of a command that fills the disk may not get through`,
      );
    }
    if (kept) return;
    this.warnOnce(
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
      (message) => this.warnOnce(message, message),
      (dir) =>
        this.log(
          `${dir} was replaced (removed and created again, as a Part-A flush does); watching the new one`,
        ),
    );
  }

  private warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(line);
  }

  /** One pass over everything a client may have changed. Synchronous: see the file comment. */
  private pump(): void {
    if (this.state !== 'serving' && this.state !== 'stepping-down') return;
    try {
      this.answerHandshake();
      this.handleCancelRequest();
      if (this.state === 'serving' && !this.current && !this.settling && !this.foreignCommandRunning()) {
        this.startNext();
      }
    } catch (error) {
      // A directory made unreadable (chmod 000) is unusable, as a deleted one is: said once, and
      // the tick brings the server back when it is fixed.
      if (isPermissionDenied(error) || isRelayError(error, 'RELAY_DIR')) {
        this.directoryUnavailable(relayFilesystemError(this.layout, error));
      } else {
        this.reportFilesystemError(error);
      }
    }
  }

  private answerHandshake(): void {
    if (this.state !== 'serving') return;
    if (existsNoFollow(this.layout.clientReady) && !existsNoFollow(this.layout.handshakeDone)) {
      writeFileAtomic(this.layout.handshakeDone, formatMarker(new Date().toISOString()));
    }
  }

  private handleCancelRequest(): void {
    const text = readTextIfExists(this.layout.cancel);
    if (text === undefined) return;
    const id = text.trim();
    const current = this.current?.command;
    if (current && current.id === id) {
      if (!current.cancelRequested) this.log(`[${id}] cancel requested`);
      current.cancel('cancelled by a client');
      return; // removed after .exit (Part A order)
    }
    if (this.state !== 'serving') return;
    if (!isValidCommandId(id)) {
      this.warnOnce(`cancel:${text}`, `ignoring a cancel file holding ${describeInvalidId(id)}`);
      removeIfContent(this.layout.cancel, text);
      return;
    }
    // A predecessor that is stepping down still owns its running command and its cancel.
    if (runningNames(readTextIfExists(this.layout.running), id)) return;
    if (this.withdraw(id, 'cancelled before it started')) {
      this.log(`[${id}] withdrawn before it started (exit ${EXIT_CANCELLED})`);
    }
    removeIfContent(this.layout.cancel, text);
  }

  /** Remove a queued command and give it exit code 130 without running it. */
  private withdraw(id: string, reason: string): boolean {
    if (!withdrawQueuedCommand(this.layout, id, reason, { claimer: this.claimToken, publish: true }))
      return false;
    removeIfExists(this.layout.lease(id));
    return true;
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
        return this.reportDiskFull(`${full}: queued commands wait until there is room`);
      }
    }
    for (const id of [...this.queue.snapshot()]) {
      this.queue.remove(id);
      // Only regular files are commands: a directory or a FIFO with a command's name is left
      // alone (reading a FIFO would block the server; claiming a directory would loop).
      const stat = fs.lstatSync(this.layout.command(id), { throwIfNoEntry: false });
      const kind = fileKind(stat);
      if (kind !== 'file') {
        if (kind !== 'missing') {
          this.warnOnce(
            `kind:${id}`,
            `leaving cmd/${JSON.stringify(id + '.sh')} alone: it is a ${kind}, not a command file`,
          );
        }
        continue;
      }
      const claimed = this.layout.commandClaimed(id, this.claimToken);
      // The rename is the claim: of two servers (or a server and a withdrawing client), one wins.
      if (!renameIfExists(this.layout.command(id), claimed)) continue;
      // Only our own user's commands run as us. The directory checks keep other users out;
      // this catches what they cannot: a client running as another user (root's, say,
      // into a directory served by a `docker run --user` server), whose files we may not
      // even read. Its client is answered (126, and why), instead of waiting forever.
      if (stat!.uid !== selfUid()) {
        this.answerNotRun(
          id,
          claimed,
          `cmd/${id}.sh belongs to ${describeUid(stat!.uid)}, but this relay server runs as ${describeUid(selfUid())} ` +
            `and runs only its own user's commands: ${uidMismatchHint(stat!.uid)}`,
        );
        continue;
      }
      this.launch(id, claimed);
      return;
    }
  }

  private launch(id: string, claimed: string): void {
    let command: RunningCommand;
    let text: Buffer;
    try {
      try {
        text = readCommandFile(claimed);
      } catch (error) {
        const foreign = foreignFileError(claimed, error, 'read the command file');
        if (!foreign && !isPermissionDenied(error)) throw error;
        return this.answerNotRun(
          id,
          claimed,
          foreign?.message ??
            `cannot read cmd/${id}.sh (${(error as NodeJS.ErrnoException).code}): it is not readable by its owner`,
        );
      }
      // "Any stale cancel is deleted when a command starts" (Part A).
      const cancel = readTextIfExists(this.layout.cancel);
      if (cancel !== undefined && cancel.trim() !== id) removeIfContent(this.layout.cancel, cancel);
      command = new RunningCommand({
        id,
        text,
        textFile: claimed,
        logPath: this.layout.log(id),
        workdir: this.workdir,
        env: this.env,
        graceMs: this.graceMs,
      });
    } catch (error) {
      // Nothing ran: put the command back so that it is not lost, and say why; try again in
      // a second, not in a loop driven by the rename's own events.
      renameIfExists(claimed, this.layout.command(id));
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
      .catch((error: unknown) => this.reportFilesystemError(error));
    // Command texts may hold secrets: shown only when asked (Part B, defect 9).
    const shown = this.options.logCommands ? `: ${JSON.stringify(text.toString('utf8'))}` : '';
    this.log(`[${id}] started, pid ${command.pid ?? '-'}${shown}`);
    if (runningText) writeFileAtomic(this.layout.running, runningText);
    removeIfExists(claimed);
  }

  /**
   * A command that will not run: its client gets exit 126 and a log line saying why, the
   * server's console says it once. The text itself is never shown (it may hold secrets).
   */
  private answerNotRun(id: string, claimed: string, reason: string): void {
    const line = `[relay] not run: ${reason}.`;
    writeFileAtomic(this.layout.log(id), `${line}\n`);
    this.publish(resultWithoutRun(id, EXIT_CANNOT_EXECUTE, { note: line }));
    removeIfExists(claimed);
    this.log(`[${id}] not run (exit ${EXIT_CANNOT_EXECUTE}): ${reason}`);
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

  /** `.json`, then `.exit`, then remove `running`, then `cancel` (Part A order, Part C record). */
  private publish(record: ResultRecord): void {
    // Ours to remove even if the result must wait (an unreadable directory): a `running` of
    // ours found after the outage must not be taken for a dead server's and settled again.
    const runningText = this.current?.command.id === record.id ? this.current.runningText : undefined;
    if (runningText) this.ownRunningTexts.add(runningText);
    try {
      verifyRelayDirectory(this.layout, { writable: false });
      const madeRoom = writeResultMakingRoom(this.layout, record, this.reserve);
      if (madeRoom !== undefined) {
        this.log(
          `[${record.id}] exit ${record.exitCode}, but ${record.diskFull ?? 'the disk is full'}: ${madeRoom}`,
        );
      }
    } catch (error) {
      // The directory is gone, unwritable or full: keep the result and write it when it is back.
      this.unpublished.push(record);
      if (isDiskFull(error)) {
        this.reportDiskFull(
          `${describeFullDisk(this.layout.root, error) ?? 'the disk is full'}: could not write the result of ${record.id} ` +
            `(exit ${record.exitCode}), and the relay has nothing of its own left to free; it is written as soon as there is room: ${freeSpaceHint(this.layout.root)}`,
        );
      } else {
        this.reportFilesystemError(error);
      }
      return;
    }
    this.removeStaleMarkers(record.id);
  }

  /**
   * After a result is out: our `running` for it, a `cancel` naming it, its lease. A directory
   * that turned unwritable makes these fail; they are retried every tick until they succeed,
   * and our own leftover `running` is never mistaken for a dead server's.
   */
  private removeStaleMarkers(id?: string): void {
    try {
      // `running` goes only after `.exit` is out (Part A): not while a result waits to be written.
      for (const text of this.unpublished.length > 0 ? [] : this.ownRunningTexts) {
        if (readTextIfExists(this.layout.running) !== text || removeIfContent(this.layout.running, text)) {
          this.ownRunningTexts.delete(text);
        }
      }
      if (id !== undefined) {
        const cancel = readTextIfExists(this.layout.cancel);
        if (cancel !== undefined && cancel.trim() === id) removeIfContent(this.layout.cancel, cancel);
        removeIfExists(this.layout.lease(id));
      }
    } catch (error) {
      this.reportFilesystemError(error);
    }
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
    this.shutdownResources();
    removeIfContent(this.layout.serverReady, this.readyText);
    this.state = 'stopped';
    this.resolveStopped('stepped-down');
  }

  /**
   * A `running` that is not ours: a predecessor stepping down still runs it, or a dead one
   * left it. Wait while the predecessor touches it; settle it once it has gone stale.
   */
  private foreignCommandRunning(): boolean {
    const runningText = readTextIfExists(this.layout.running);
    if (runningText !== undefined && this.ownRunningTexts.has(runningText)) {
      this.removeStaleMarkers();
      return true;
    }
    if (runningText === undefined) return this.foreignClaimPending();
    const predecessor = this.predecessor;
    const deadByPid =
      predecessor !== undefined && isThisHost(predecessor) && !isProcessAlive(predecessor.pid);
    const age = runningFileAge(this.layout, this.clock) ?? 0;
    if (deadByPid || age > DEFAULT_STALE_AFTER_MS) this.settleLeftovers(predecessor);
    return true;
  }

  /**
   * Another server has taken a command (renamed it to `cmd/.claimed.<its token>.<id>`) and
   * is starting it: its `running` follows in a few milliseconds. Starting one of our own now
   * would run two at once. A claim that stays without a `running` belongs to a dead server.
   */
  private foreignClaimPending(): boolean {
    let pending = false;
    for (const name of listDirectory(this.layout.cmdDir)) {
      const claimed = parseClaimedFileName(name);
      if (!claimed || claimed.claimer === this.claimToken || claimed.claimer.startsWith('w')) continue;
      pending = true;
      const stat = fs.statSync(path.join(this.layout.cmdDir, name), { throwIfNoEntry: false });
      if (!stat) continue;
      if (this.clock.sinceChange(`claim:${name}`, String(stat.mtimeMs)) > DEFAULT_STALE_AFTER_MS) {
        this.settleLeftovers(this.predecessor);
      }
    }
    return pending;
  }

  /**
   * A dead server leaves its running command (named by `running`) and possibly a command it
   * had taken but not yet recorded (`cmd/.claimed.*`). One that never got a log never
   * started: it goes back into the queue. The others are settled one by one.
   */
  private settleLeftovers(predecessor: Marker | undefined): void {
    if (this.settling) return;
    const orphans = new Map<string, Leftover>();
    const running = readRunningMarker(this.layout);
    if (running !== undefined) {
      const { id, text: runningText } = running;
      // Every server writes `<id>:<pgid>`: a text without the colon is no marker of a command
      // (settling it would write a result for an id no client ever submitted).
      if (!isValidCommandId(id) || !runningText.includes(':')) {
        this.warnOnce(
          `running:${runningText}`,
          `removing a running file holding ${describeInvalidId(runningText.trim())}`,
        );
        removeIfContent(this.layout.running, runningText);
      } else if (existsNoFollow(this.layout.exit(id))) {
        // Its server wrote the result and died before removing the marker.
        removeIfContent(this.layout.running, runningText);
      } else {
        orphans.set(id, { running });
      }
    }
    for (const name of listDirectory(this.layout.cmdDir)) {
      const claimed = parseClaimedFileName(name);
      if (!claimed || claimed.claimer === this.claimToken || !isValidCommandId(claimed.id)) continue;
      const file = path.join(this.layout.cmdDir, name);
      if (claimed.claimer.startsWith('w')) {
        removeIfExists(file); // a client's withdrawal, interrupted: it stays withdrawn
      } else if (existsNoFollow(this.layout.log(claimed.id))) {
        orphans.set(claimed.id, { ...orphans.get(claimed.id), claimedFile: file });
      } else if (renameIfExists(file, this.layout.command(claimed.id))) {
        this.log(`[${claimed.id}] re-queued: its relay server died before starting it`);
      }
    }
    if (orphans.size === 0) return;
    this.settling = (async () => {
      for (const [id, leftover] of orphans) await this.settleOrphan(id, leftover, predecessor);
    })().finally(() => {
      this.settling = undefined;
      this.pump();
    });
  }

  /**
   * Stop what is left of an orphaned command's process tree (if it ran here), then give it
   * a result so its client is not left waiting: exit 125, or 130 if a cancel was pending.
   */
  private async settleOrphan(id: string, leftover: Leftover, predecessor: Marker | undefined): Promise<void> {
    const who = predecessor ? `relay server ${describeMarker(predecessor)}` : 'the relay server that ran it';
    const cancelPending = readTextIfExists(this.layout.cancel)?.trim() === id;
    let note: string;
    if (predecessor === undefined || isThisHost(predecessor)) {
      // The recorded group is used only where it is known to be this host's, and only while it
      // is still the command's (see checkRecordedGroup); RELAY_CMD_ID finds our own commands'
      // escapes. A Part-A command carries no RELAY_CMD_ID: its group is all there is to find.
      const recorded = leftover.running;
      const group =
        predecessor !== undefined && recorded?.pgid !== undefined
          ? checkRecordedGroup({ pgid: recorded.pgid, recordedAtMs: recorded.writtenAtMs, uid: recorded.uid })
          : undefined;
      const report = await terminateCommandProcesses(
        { commandId: id, ...(group?.verdict === 'command' ? { pgid: group.pgid } : {}) },
        this.graceMs,
      );
      note = describeOrphanKill(report, group, recorded?.pgid);
    } else {
      note = `its processes ran on ${predecessor.host} and cannot be stopped from here`;
    }
    const exitCode = cancelPending ? EXIT_CANCELLED : EXIT_RELAY_LOST;
    const line =
      `[relay] ${who} died while this command ran; ${this.describeSelf()} ${note}. ` +
      (cancelPending
        ? 'A cancel was pending, so it counts as cancelled.'
        : `Exit code ${EXIT_RELAY_LOST}: the relay lost the command, and its own exit code is unknown.`);
    try {
      fs.appendFileSync(this.layout.log(id), `\n${line}\n${cancelPending ? CANCELLED_LINE + '\n' : ''}`, {
        mode: 0o600,
      });
    } catch (error) {
      this.reportFilesystemError(error);
    }
    this.log(`[${id}] settled after ${who} died: ${note}; exit ${exitCode}`);
    this.publish(
      resultWithoutRun(id, exitCode, {
        recovered: true,
        cancelled: cancelPending,
        note: line,
        pid: leftover.running?.pgid ?? null,
      }),
    );
    if (leftover.running !== undefined) removeIfContent(this.layout.running, leftover.running.text);
    if (leftover.claimedFile !== undefined) removeIfExists(leftover.claimedFile);
  }

  private describeSelf(): string {
    return `relay server ${os.hostname()}:${process.pid}`;
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
      if (this.diskFullReported) {
        this.diskFullReported = false;
        this.log(`there is room again on the disk holding relay directory ${this.layout.root}`);
      }
      this.keepReserve();
      this.removeStaleMarkers();
      if (this.current) touch(this.layout.running);
      this.retryUnpublished();
      this.checkLease();
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
      this.reportDiskFull(
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
  }

  private retryUnpublished(): void {
    const pending = this.unpublished;
    this.unpublished = [];
    for (const record of pending) this.publish(record);
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

  /** One line per episode of a full disk; `tick` says when there is room again. */
  private reportDiskFull(line: string): void {
    if (this.diskFullReported) return;
    this.diskFullReported = true;
    this.log(line);
  }

  private reportFilesystemError(error: unknown): void {
    const message = (error as Error).message ?? String(error);
    this.warnOnce(`fs:${message}`, `relay directory ${this.layout.root}: ${message}`);
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
      this.reportFilesystemError(error);
    }
    this.state = 'stopped';
    this.log('stopped');
    this.resolveStopped('shutdown');
  }
}

/**
 * What a relay server that died left behind, settled by the one that follows it: its running
 * command (named by `running`) and commands it had claimed (`cmd/.claimed.<token>.<id>`).
 * Each gets what is left of its process tree stopped and a result, so that its client is not
 * left waiting; a claimed command that never got a log never started and goes back into the
 * queue. While a predecessor that is stepping down still runs its command, this is also what
 * tells the server to wait.
 *
 * Concurrency: the checks are synchronous and run inside the server's `pump()`. Stopping an
 * orphan's processes is the one asynchronous part (SIGTERM, the grace period, SIGKILL); while
 * it runs `busy` is true and the server starts nothing, and `onSettled` brings the server
 * back into `pump()` when it is done.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  existsNoFollow,
  listDirectory,
  readTextIfExists,
  removeIfContent,
  removeIfExists,
  renameIfExists,
} from './files.js';
import { describeInvalidId, isValidCommandId } from './ids.js';
import { parseClaimedFileName, type RelayLayout } from './layout.js';
import { DEFAULT_STALE_AFTER_MS, runningFileAge, type ChangeClock } from './liveness.js';
import { describeMarker, isProcessAlive, isThisHost, type Marker } from './markers.js';
import {
  checkRecordedGroup,
  terminateCommandProcesses,
  type RecordedGroupCheck,
  type TerminationReport,
} from './processTree.js';
import type { ResultPublisher } from './resultPublisher.js';
import { CANCELLED_LINE, EXIT_CANCELLED, EXIT_RELAY_LOST, resultWithoutRun } from './results.js';
import { marksACommand, readRunningMarker, type RunningMarkerOnDisk } from './runningMarker.js';
import type { ServerConsole } from './serverConsole.js';

export interface LeftoverSettlementOptions {
  layout: RelayLayout;
  /** The settling server's claim token: its own claimed files are no leftovers. */
  claimToken: string;
  /** SIGTERM → SIGKILL grace period for an orphan's processes. */
  graceMs: number;
  /** The server's clock of file changes (a stale `running` or claim belongs to a dead server). */
  clock: ChangeClock;
  serverConsole: ServerConsole;
  publisher: ResultPublisher;
  /** A settlement has ended: the server looks at its queue again. */
  onSettled: () => void;
}

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

export class LeftoverSettlement {
  private settling: Promise<void> | undefined;

  constructor(private readonly options: LeftoverSettlementOptions) {}

  /** An orphan's processes are being stopped: the server starts nothing meanwhile. */
  get busy(): boolean {
    return this.settling !== undefined;
  }

  /**
   * A `running` that is not ours: a predecessor stepping down still runs it, or a dead one
   * left it. Wait while the predecessor touches it; settle it once it has gone stale.
   */
  foreignCommandRunning(predecessor: Marker | undefined): boolean {
    const { layout, publisher, clock } = this.options;
    const runningText = readTextIfExists(layout.running);
    if (runningText !== undefined && publisher.isOwnEndedRunning(runningText)) {
      publisher.removeStaleMarkers();
      return true;
    }
    if (runningText === undefined) return this.foreignClaimPending(predecessor);
    const deadByPid =
      predecessor !== undefined && isThisHost(predecessor) && !isProcessAlive(predecessor.pid);
    const age = runningFileAge(layout, clock) ?? 0;
    if (deadByPid || age > DEFAULT_STALE_AFTER_MS) this.settle(predecessor);
    return true;
  }

  /**
   * Another server has taken a command (renamed it to `cmd/.claimed.<its token>.<id>`) and
   * is starting it: its `running` follows in a few milliseconds. Starting one of our own now
   * would run two at once. A claim that stays without a `running` belongs to a dead server.
   */
  private foreignClaimPending(predecessor: Marker | undefined): boolean {
    const { layout, claimToken, clock } = this.options;
    let pending = false;
    for (const name of listDirectory(layout.cmdDir)) {
      const claimed = parseClaimedFileName(name);
      if (!claimed || claimed.claimer === claimToken || claimed.claimer.startsWith('w')) continue;
      pending = true;
      const stat = fs.statSync(path.join(layout.cmdDir, name), { throwIfNoEntry: false });
      if (!stat) continue;
      if (clock.sinceChange(`claim:${name}`, String(stat.mtimeMs)) > DEFAULT_STALE_AFTER_MS) {
        this.settle(predecessor);
      }
    }
    return pending;
  }

  /**
   * A dead server leaves its running command (named by `running`) and possibly a command it
   * had taken but not yet recorded (`cmd/.claimed.*`). One that never got a log never
   * started: it goes back into the queue. The others are settled one by one.
   */
  settle(predecessor: Marker | undefined): void {
    if (this.settling) return;
    const { layout, claimToken, serverConsole } = this.options;
    const orphans = new Map<string, Leftover>();
    const running = readRunningMarker(layout);
    if (running !== undefined) {
      const { id, text: runningText } = running;
      if (!marksACommand(running)) {
        serverConsole.warnOnce(
          `running:${runningText}`,
          `removing a running file holding ${describeInvalidId(runningText.trim())}`,
        );
        removeIfContent(layout.running, runningText);
      } else if (existsNoFollow(layout.exit(id))) {
        // Its server wrote the result and died before removing the marker.
        removeIfContent(layout.running, runningText);
      } else {
        orphans.set(id, { running });
      }
    }
    for (const name of listDirectory(layout.cmdDir)) {
      const claimed = parseClaimedFileName(name);
      if (!claimed || claimed.claimer === claimToken || !isValidCommandId(claimed.id)) continue;
      const file = path.join(layout.cmdDir, name);
      if (claimed.claimer.startsWith('w')) {
        removeIfExists(file); // a client's withdrawal, interrupted: it stays withdrawn
      } else if (existsNoFollow(layout.log(claimed.id))) {
        orphans.set(claimed.id, { ...orphans.get(claimed.id), claimedFile: file });
      } else if (renameIfExists(file, layout.command(claimed.id))) {
        serverConsole.log(`[${claimed.id}] re-queued: its relay server died before starting it`);
      }
    }
    if (orphans.size === 0) return;
    this.settling = (async () => {
      for (const [id, leftover] of orphans) await this.settleOrphan(id, leftover, predecessor);
    })().finally(() => {
      this.settling = undefined;
      this.options.onSettled();
    });
  }

  /**
   * Stop what is left of an orphaned command's process tree (if it ran here), then give it
   * a result so its client is not left waiting: exit 125, or 130 if a cancel was pending.
   */
  private async settleOrphan(id: string, leftover: Leftover, predecessor: Marker | undefined): Promise<void> {
    const { layout, graceMs, serverConsole, publisher } = this.options;
    const who = predecessor ? `relay server ${describeMarker(predecessor)}` : 'the relay server that ran it';
    const cancelPending = readTextIfExists(layout.cancel)?.trim() === id;
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
        graceMs,
      );
      note = describeOrphanKill(report, group, recorded?.pgid);
    } else {
      note = `its processes ran on ${predecessor.host} and cannot be stopped from here`;
    }
    const exitCode = cancelPending ? EXIT_CANCELLED : EXIT_RELAY_LOST;
    const line =
      `[relay] ${who} died while this command ran; relay server ${os.hostname()}:${process.pid} ${note}. ` +
      (cancelPending
        ? 'A cancel was pending, so it counts as cancelled.'
        : `Exit code ${EXIT_RELAY_LOST}: the relay lost the command, and its own exit code is unknown.`);
    try {
      fs.appendFileSync(layout.log(id), `\n${line}\n${cancelPending ? CANCELLED_LINE + '\n' : ''}`, {
        mode: 0o600,
      });
    } catch (error) {
      serverConsole.reportFilesystemError(error);
    }
    serverConsole.log(`[${id}] settled after ${who} died: ${note}; exit ${exitCode}`);
    // Never the command this server runs (nothing starts while a settlement is busy).
    publisher.publish(
      resultWithoutRun(id, exitCode, {
        recovered: true,
        cancelled: cancelPending,
        note: line,
        pid: leftover.running?.pgid ?? null,
      }),
      undefined,
    );
    if (leftover.running !== undefined) removeIfContent(layout.running, leftover.running.text);
    if (leftover.claimedFile !== undefined) removeIfExists(leftover.claimedFile);
  }
}

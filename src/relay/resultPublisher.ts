/**
 * Publishing a command's result in the order Part A fixes — `result/<id>.json`, then `.exit`,
 * then removing `running`, then a `cancel` naming it and its lease — and keeping what could
 * not be published yet. A directory that is gone, unwritable or full must not lose a result:
 * it waits here and is written as soon as the directory is back (`retryUnpublished`, every
 * tick). Synchronous, like every relay-file write of the server (see server.ts).
 */
import { describeFullDisk, freeSpaceHint, isDiskFull, type SpaceReserve } from './diskSpace.js';
import { readTextIfExists, removeIfContent, removeIfExists } from './files.js';
import type { RelayLayout } from './layout.js';
import { verifyRelayDirectory } from './relayDirectory.js';
import { writeResultMakingRoom, type ResultRecord } from './results.js';
import type { ServerConsole } from './serverConsole.js';

export class ResultPublisher {
  private unpublished: ResultRecord[] = [];
  /** `running` texts we wrote for commands that have ended, still to be removed. */
  private readonly ownRunningTexts = new Set<string>();

  constructor(
    private readonly layout: RelayLayout,
    private readonly reserve: SpaceReserve,
    private readonly serverConsole: ServerConsole,
  ) {}

  /**
   * `.json`, then `.exit`, then remove `running`, then `cancel` (Part A order, Part C record).
   * `runningText`: the `running` we wrote for this command, if it is the one we run.
   */
  publish(record: ResultRecord, runningText: string | undefined): void {
    // Ours to remove even if the result must wait (an unreadable directory): a `running` of
    // ours found after the outage must not be taken for a dead server's and settled again.
    if (runningText) this.ownRunningTexts.add(runningText);
    try {
      verifyRelayDirectory(this.layout, { writable: false });
      const madeRoom = writeResultMakingRoom(this.layout, record, this.reserve);
      if (madeRoom !== undefined) {
        this.serverConsole.log(
          `[${record.id}] exit ${record.exitCode}, but ${record.diskFull ?? 'the disk is full'}: ${madeRoom}`,
        );
      }
    } catch (error) {
      // The directory is gone, unwritable or full: keep the result and write it when it is back.
      this.unpublished.push(record);
      if (isDiskFull(error)) {
        this.serverConsole.reportDiskFull(
          `${describeFullDisk(this.layout.root, error) ?? 'the disk is full'}: could not write the result of ${record.id} ` +
            `(exit ${record.exitCode}), and the relay has nothing of its own left to free; it is written as soon as there is room: ${freeSpaceHint(this.layout.root)}`,
        );
      } else {
        this.serverConsole.reportFilesystemError(error);
      }
      return;
    }
    this.removeStaleMarkers(record.id);
  }

  /** Every tick: write the results that waited for the directory to be usable again. */
  retryUnpublished(): void {
    const pending = this.unpublished;
    this.unpublished = [];
    for (const record of pending) this.publish(record, undefined);
  }

  /** Whether `running` holds a text this server wrote for a command that has ended. */
  isOwnEndedRunning(text: string): boolean {
    return this.ownRunningTexts.has(text);
  }

  /**
   * After a result is out: our `running` for it, a `cancel` naming it, its lease. A directory
   * that turned unwritable makes these fail; they are retried every tick until they succeed,
   * and our own leftover `running` is never mistaken for a dead server's.
   */
  removeStaleMarkers(id?: string): void {
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
      this.serverConsole.reportFilesystemError(error);
    }
  }
}

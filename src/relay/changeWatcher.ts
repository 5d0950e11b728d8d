/**
 * Tells its owner that something in the relay directories may have changed. The owner
 * always rescans what it cares about, so a lost or coalesced event costs latency, never
 * correctness: events make the relay fast, the periodic rescan makes it right.
 *
 * Events come from fs.watch (inotify on Linux), one per changed name, with no work of their
 * own. chokidar was measured here and not used: it answers every directory event by
 * re-reading and stat-ing the whole directory, so draining 1,000 queued commands took
 * 12.3 s and 13.5 s of CPU against 7.3 s with fs.watch, and a read in flight at close left
 * a one-second timer that delayed every `relay-dap run` from exiting.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WatchChoice } from './watchMode.js';

/** `changedPath` is set for a filesystem event, undefined for a periodic rescan. */
export type ChangeListener = (changedPath: string | undefined) => void;

interface WatchedDirectory {
  dir: string;
  /**
   * Which directory is watched (inode and birth time: a directory removed and created again
   * often gets the same inode number back). inotify follows the directory, not its name, so
   * a replaced one goes silent and must be watched anew.
   */
  identity: string | undefined;
  watcher: fs.FSWatcher | undefined;
  /** A watched directory went away: whatever comes back under its name is a replacement. */
  lost: boolean;
}

export class ChangeWatcher {
  private readonly watched: WatchedDirectory[];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /**
   * Polling: the timer alone. Events: fs.watch on each directory, plus the timer as a safety
   * net. `onReplaced` hears of a directory that was removed and created again (a Part-A
   * `flush` does that to `cmd/` and `result/`) and is watched anew.
   */
  constructor(
    dirs: readonly string[],
    private readonly choice: WatchChoice,
    private readonly listener: ChangeListener,
    private readonly onError: (message: string) => void = () => {},
    private readonly onReplaced: (dir: string) => void = () => {},
  ) {
    this.watched = dirs.map((dir) => ({ dir, identity: undefined, watcher: undefined, lost: false }));
    this.timer = setInterval(() => {
      if (choice.mode === 'events') this.rewatchReplaced();
      this.listener(undefined);
    }, choice.intervalMs);
    if (choice.mode === 'events') this.rewatchReplaced();
  }

  get mode(): WatchChoice['mode'] {
    return this.choice.mode;
  }

  private watch(entry: WatchedDirectory, identity: string): void {
    const { dir } = entry;
    entry.identity = identity;
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (this.closed) return;
        const changed = name ? path.join(dir, name.toString()) : undefined;
        // A watched directory removed or created again shows up as an event on its own name:
        // in its parent's watch, and in its own as it goes (then nothing of that name is inside).
        if (name && this.watched.some((other) => path.basename(other.dir) === name.toString())) {
          if (name.toString() === path.basename(dir) && !fs.existsSync(changed!)) this.forget(entry);
          if (this.rewatchReplaced()) this.listener(undefined);
        }
        this.listener(changed);
      });
      watcher.on('error', (error) => {
        this.onError(
          `filesystem events for ${dir} stopped (${error.message}); rescanning every ${this.choice.intervalMs} ms`,
        );
      });
      entry.watcher = watcher;
    } catch (error) {
      this.onError(
        `no filesystem events for ${dir} (${(error as Error).message}); rescanning every ${this.choice.intervalMs} ms`,
      );
    }
  }

  private forget(entry: WatchedDirectory): void {
    if (!entry.watcher) return;
    entry.watcher.close();
    entry.watcher = undefined;
    entry.lost = true;
  }

  /** Watch each directory not watched as it is now (new, or replaced since); true if any was. */
  private rewatchReplaced(): boolean {
    let replaced = false;
    for (const entry of this.watched) {
      if (this.closed) break;
      const identity = directoryIdentity(entry.dir);
      // Watched as it is, or not watchable (missing, or fs.watch refused it) and unchanged since.
      if (identity === entry.identity && (entry.watcher !== undefined || !entry.lost)) continue;
      this.forget(entry);
      entry.identity = identity;
      if (identity === undefined) continue; // gone for now: watched once it is back
      this.watch(entry, identity);
      replaced = true;
      if (entry.lost && entry.watcher) this.onReplaced(entry.dir);
      entry.lost = false;
    }
    return replaced;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const entry of this.watched) {
      entry.watcher?.close();
      entry.watcher = undefined;
    }
  }
}

/** Inode and birth time of `dir` if it is a directory now (never through a link), else undefined. */
function directoryIdentity(dir: string): string | undefined {
  try {
    const stat = fs.lstatSync(dir, { bigint: true, throwIfNoEntry: false });
    return stat?.isDirectory() ? `${stat.ino}:${stat.birthtimeNs}` : undefined;
  } catch {
    return undefined; // unreadable parent: the owner's own checks say so
  }
}

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

export class ChangeWatcher {
  private watchers: fs.FSWatcher[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /** Polling: the timer alone. Events: fs.watch on each directory, plus the timer as a safety net. */
  constructor(
    dirs: readonly string[],
    private readonly choice: WatchChoice,
    private readonly listener: ChangeListener,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.timer = setInterval(() => this.listener(undefined), choice.intervalMs);
    if (choice.mode === 'events') dirs.forEach((dir) => this.watch(dir));
  }

  get mode(): WatchChoice['mode'] {
    return this.choice.mode;
  }

  private watch(dir: string): void {
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (!this.closed) this.listener(name ? path.join(dir, name.toString()) : undefined);
      });
      watcher.on('error', (error) => {
        this.onError(
          `filesystem events for ${dir} stopped (${error.message}); rescanning every ${this.choice.intervalMs} ms`,
        );
      });
      this.watchers.push(watcher);
    } catch (error) {
      this.onError(
        `no filesystem events for ${dir} (${(error as Error).message}); rescanning every ${this.choice.intervalMs} ms`,
      );
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watchers.forEach((watcher) => watcher.close());
    this.watchers = [];
  }
}

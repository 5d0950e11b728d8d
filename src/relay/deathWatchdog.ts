/**
 * A process outside this one that reads a pipe only this process can write to. However this
 * process ends, the kernel closes that pipe; if it closed without "done", this process died
 * without cleaning up (SIGKILL, the OOM killer, a crash), and the watchdog runs a reaper
 * script (embeddedReaper.js, channelReaper.js) to do that cleanup. It costs one idle bash and
 * no polling. Without bash there is no watchdog.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Writable } from 'node:stream';
import { COMMAND_ID_ENV } from './processTree.js';

/** How long `release` waits for the watchdog to read "done" and exit (it has nothing else to do). */
const WATCHDOG_EXIT_WAIT_MS = 2000;

export interface DeathWatchdog {
  /**
   * This process cleaned up itself: the watchdog exits without reaping. Resolves once it has
   * (or after a bounded wait), so that nothing is left behind by a process that exits right
   * after: it would otherwise outlive its own idle bash by a moment on a loaded machine.
   */
  release(): Promise<void>;
}

/** Starts `node REAPER ARGS…` should this process die before `release()`. */
export function startDeathWatchdog(reaper: string, args: readonly string[]): DeathWatchdog {
  // A watchdog started from inside a relayed command must not carry its id: a cancel of that
  // command would take the watchdog along, when it is needed.
  const env = { ...process.env };
  delete env[COMMAND_ID_ENV];
  const child: ChildProcessByStdio<Writable, null, null> = spawn(
    'bash',
    ['-c', 'read -r word; [ "$word" = done ] || exec "$0" "$@"', process.execPath, reaper, ...args],
    // Its own process group: a signal to this process's group (a closed terminal, kill -- -PGID)
    // must not take the watchdog with it: that is when it is needed.
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env },
  );
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  // Neither may keep this process alive.
  child.unref();
  (child.stdin as Writable & { unref?: () => void }).unref?.();
  return {
    release: () => {
      child.stdin.end('done\n');
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, WATCHDOG_EXIT_WAIT_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * A relay server inside this process, on a private temporary directory: the default when a
 * launch names no relayDir, so that a newcomer can debug a job on their own machine before
 * setting up a container. Everything it creates is removed by `dispose` — or, if this process
 * dies without disposing (SIGKILL), by a watchdog process outside it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEFAULT_GRACE_MS } from './processTree.js';
import { RelayServer } from './server.js';

const REAPER = fileURLToPath(new URL('./embeddedReaper.js', import.meta.url));

/**
 * A process outside this one that reads a pipe only this process can write to. However this
 * process ends, the kernel closes that pipe; if it closed without "done", this process died
 * without disposing, and the reaper stops the running command's tree and deletes `root`.
 * It costs one idle bash per session and no polling. Without bash there is no watchdog.
 */
function startWatchdog(root: string, graceMs: number): ChildProcessByStdio<Writable, null, null> {
  const child = spawn(
    'bash',
    [
      '-c',
      'read -r word; [ "$word" = done ] || exec "$0" "$@"',
      process.execPath,
      REAPER,
      root,
      String(graceMs),
    ],
    // Its own process group: a signal to the adapter's group (a closed terminal, kill -- -PGID)
    // must not take the watchdog with it: that is when it is needed.
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  // Neither may keep this process alive.
  child.unref();
  (child.stdin as Writable & { unref?: () => void }).unref?.();
  return child;
}

/** How long `dispose` waits for the watchdog to read "done" and exit (it has nothing else to do). */
const WATCHDOG_EXIT_WAIT_MS = 2000;

/**
 * Resolves once the watchdog has exited (or after a bounded wait), so that a disposed relay
 * leaves no process behind: an adapter that exits right after disposing would otherwise
 * outlive its own idle bash by a moment on a loaded machine.
 */
function watchdogExit(watchdog: ChildProcessByStdio<Writable, null, null>): Promise<void> {
  if (watchdog.exitCode !== null || watchdog.signalCode !== null || watchdog.pid === undefined) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, WATCHDOG_EXIT_WAIT_MS);
    watchdog.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface EmbeddedRelay {
  relayDir: string;
  server: RelayServer;
  /** Stop the server (cancelling what runs) and delete the directory. */
  dispose(): Promise<void>;
}

export async function startEmbeddedRelay(options: {
  workdir: string;
  log?: (line: string) => void;
  graceMs?: number;
}): Promise<EmbeddedRelay> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-dap-'));
  const relayDir = path.join(root, 'relay');
  let server: RelayServer;
  try {
    server = await RelayServer.start({
      relayDir,
      workdir: options.workdir,
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const watchdog = startWatchdog(root, options.graceMs ?? DEFAULT_GRACE_MS);
  let disposed: Promise<void> | undefined;
  return {
    relayDir,
    server,
    dispose: () =>
      (disposed ??= server.stop().finally(async () => {
        fs.rmSync(root, { recursive: true, force: true });
        watchdog.stdin.end('done\n');
        await watchdogExit(watchdog);
      })),
  };
}

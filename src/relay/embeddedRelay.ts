/**
 * A relay server inside this process, on a private temporary directory: the default when a
 * launch names no relayDir, so that a newcomer can debug a job on their own machine before
 * setting up a container. Everything it creates is removed by `dispose` — or, if this process
 * dies without disposing (SIGKILL), by a watchdog process outside it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDeathWatchdog } from './deathWatchdog.js';
import { DEFAULT_GRACE_MS } from './processTree.js';
import { RelayServer } from './server.js';

const REAPER = fileURLToPath(new URL('./embeddedReaper.js', import.meta.url));

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
  // Should this process die without disposing, the reaper stops the running command's tree and deletes `root`.
  const watchdog = startDeathWatchdog(REAPER, [root, String(options.graceMs ?? DEFAULT_GRACE_MS)]);
  let disposed: Promise<void> | undefined;
  return {
    relayDir,
    server,
    dispose: () =>
      (disposed ??= server.stop().finally(async () => {
        fs.rmSync(root, { recursive: true, force: true });
        await watchdog.release();
      })),
  };
}
